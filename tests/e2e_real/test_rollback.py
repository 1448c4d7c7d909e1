"""Rolling back to the last good revision, against the real API server and real helm: --atomic
after an earlier broken deploy, and `deploytag rollback`, restore the revision a deploy verified
ready (recorded on the namespace), never Helm's previous one, and a failed deploy never moves it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from realapp import (
    RealApp,
    deployed_commit,
    destroy,
    helm_history,
    kube_api,
    make_app,
    namespace_annotations,
)

from realkube import RealKube

pytestmark = pytest.mark.cluster

BROKEN = ("--set", "neverReady=true", "--timeout", "3")  # helm says deployed; verify says broken
INVALID = ("--set", "invalid=true")  # the API server rejects it: helm records a failed revision


@pytest.fixture
def app(tmp_path: Path, real_kube: RealKube, helm_bin: Path) -> Iterator[RealApp]:
    """Once with Helm 4 and once with Helm 3: rollback and its --wait differ between them."""
    made = make_app(tmp_path, real_kube.kubeconfig, commits=5, helm=helm_bin)
    yield made
    destroy(made)


def deployments(api: object, namespace: str) -> list[str]:
    import kubernetes

    items = kubernetes.client.AppsV1Api(api).list_namespaced_deployment(namespace).items
    return [d.metadata.name for d in items]


@pytest.mark.timeout(300)
def test_atomic_after_a_broken_deploy_and_rollback_restore_the_last_good_revision(app: RealApp) -> None:
    c1, c2, c3, c4, c5 = app.commits
    good = app.deploy(c1)
    assert good.returncode == 0, good.stderr
    ns, release = good.json()["namespace"], good.json()["release"]
    api = kube_api(app.kubeconfig)

    # Revision 2 is broken but helm calls it deployed: it must not become the "last good" one.
    broken = app.deploy(c2, *BROKEN)
    assert broken.returncode == 11, broken.stderr
    assert f"revision 1 (commit {c1[:12]}) is still recorded as the last good one" in broken.json()["error"]
    notes = namespace_annotations(api, ns)
    assert (notes["deploytag.dev/last-good-revision"], notes["deploytag.dev/last-good-commit"]) == ("1", c1)
    shown = app.run("status", "--branch", app.branch, "-o", "json")
    assert shown.returncode == 0, shown.stderr
    assert shown.json()["last_good"] == {"revision": 1, "commit": c1}
    text = app.run("status", "--branch", app.branch)
    assert f"revision 1 (commit {c1[:12]})" in text.stdout, text.stdout

    # --atomic now returns to revision 1, not to helm's previous (the broken revision 2).
    atomic = app.deploy(c3, *BROKEN, "--atomic")
    assert atomic.returncode == 11, atomic.stderr
    assert f"rolled back to revision 1 (commit {c1[:12]}), the last good one" in atomic.json()["error"]
    history = helm_history(app, release, ns)
    assert history[-1]["description"] == "Rollback to 1", history
    assert deployments(api, ns) == []  # revision 1 has no Deployment: the broken one is gone
    assert deployed_commit(api, ns) == c1
    notes = namespace_annotations(api, ns)
    assert notes["deploytag.dev/last-good-revision"] == "1"  # a failed deploy never moves it
    assert notes["deploytag.dev/outcome"] == "failed"

    # A revision helm itself marks failed.
    invalid = app.deploy(c4, *INVALID)
    assert invalid.returncode == 10, invalid.stderr
    assert "revision 1 (commit" in invalid.json()["error"]
    assert helm_history(app, release, ns)[-1]["status"] == "failed"
    failed_revision = helm_history(app, release, ns)[-1]["revision"]

    # rollback refuses a failed revision, without touching anything.
    before = namespace_annotations(api, ns)
    refused = app.run("rollback", "--branch", app.branch, "--revision", str(failed_revision), "-o", "json")
    assert refused.returncode == 10, refused.stderr
    assert f"revision {failed_revision} of {release} is failed" in refused.json()["error"]
    assert namespace_annotations(api, ns) == before

    # rollback restores the last good revision and records it.
    rolled = app.run("rollback", "--branch", app.branch, "-o", "json")
    assert rolled.returncode == 0, rolled.stderr
    report = rolled.json()
    assert report["schema"] == "deploytag.rollback/v1"
    assert report["outcome"] == "rolled-back"
    assert (report["to_revision"], report["to_commit"]) == (1, c1)
    assert report["from_revision"] == failed_revision
    # From a failed revision it first steps onto the one helm calls deployed, so the rollback
    # to 1 diffs against what really runs (helm/helm#12436).
    last = helm_history(app, release, ns)[-1]
    assert (last["revision"], last["description"], last["status"]) == (
        report["revision"],
        "Rollback to 1",
        "deployed",
    )
    assert report["revision"] > failed_revision
    assert deployed_commit(api, ns) == c1
    notes = namespace_annotations(api, ns)
    assert notes["deploytag.dev/outcome"] == "succeeded"
    assert notes["deploytag.dev/commit"] == c1
    assert notes["deploytag.dev/last-good-revision"] == str(report["revision"])
    assert notes["deploytag.dev/last-good-commit"] == c1
    assert "deploytag.dev/fingerprint" not in notes  # the next deploy runs helm

    # Again: nothing to do.
    again = app.run("rollback", "--branch", app.branch)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("up to date: ")

    # The rollback was a person's choice; the next push deploys normally.
    forward = app.deploy(c5)
    assert forward.returncode == 0, forward.stderr
    assert forward.json()["outcome"] == "succeeded"
    assert deployed_commit(api, ns) == c5


def test_rollback_without_a_good_revision_or_environment_is_one_line(app: RealApp) -> None:
    missing = app.run("rollback", "--branch", app.branch)
    assert missing.returncode == 13
    assert "has no environment" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1

    broken = app.deploy(app.commits[0], *BROKEN)  # never verified good
    assert broken.returncode == 11
    assert "no revision of this environment was ever verified good" in broken.json()["error"]
    nothing = app.run("rollback", "--branch", app.branch, "-o", "json")
    assert nothing.returncode == 10
    assert "no revision of" in nothing.json()["error"] and "--revision" in nothing.json()["error"]


def test_rollback_takes_the_environments_lease(app: RealApp) -> None:
    import datetime

    import kubernetes

    deployed = app.deploy(app.commits[0])
    assert deployed.returncode == 0, deployed.stderr
    ns = deployed.json()["namespace"]
    api = kube_api(app.kubeconfig)
    now = datetime.datetime.now(datetime.UTC)
    leases = kubernetes.client.CoordinationV1Api(api)
    leases.create_namespaced_lease(
        "default",
        {
            "metadata": {"name": f"deploytag-{ns}"},
            "spec": {
                "holderIdentity": "a-deploy-in-progress",
                "leaseDurationSeconds": 3600,
                "renewTime": now,
            },
        },
    )
    try:
        blocked = app.run("rollback", "--branch", app.branch, "--lock-wait", "1", "-o", "json")
        assert blocked.returncode == 12, blocked.stderr
        assert "locked by a-deploy-in-progress" in blocked.json()["error"]
    finally:
        leases.delete_namespaced_lease(f"deploytag-{ns}", "default")


def test_atomic_when_helm_itself_fails_returns_to_the_last_good_revision(app: RealApp) -> None:
    c1, c2, c3 = app.commits[:3]
    good = app.deploy(c1)
    assert good.returncode == 0, good.stderr
    ns, release = good.json()["namespace"], good.json()["release"]
    assert app.deploy(c2, *BROKEN).returncode == 11  # helm's latest "deployed" revision is broken
    api = kube_api(app.kubeconfig)
    assert deployments(api, ns) == ["never-ready"]

    failed = app.deploy(c3, *INVALID, "--atomic")
    assert failed.returncode == 10, failed.stderr
    assert f"rolled back to revision 1 (commit {c1[:12]}), the last good one" in failed.json()["error"]
    last = helm_history(app, release, ns)[-1]
    assert (last["description"], last["status"]) == ("Rollback to 1", "deployed")
    assert deployments(api, ns) == []
    assert deployed_commit(api, ns) == c1
    assert namespace_annotations(api, ns)["deploytag.dev/last-good-revision"] == "1"
