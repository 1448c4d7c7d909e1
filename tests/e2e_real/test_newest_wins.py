"""The newest push wins, against the real API server: concurrent deploys of one branch and late
CI retries end with the newest commit deployed, and none fails."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from realapp import RealApp, deployed_commit, destroy, kube_api, make_app, namespace_annotations

from realkube import RealKube

pytestmark = pytest.mark.cluster


@pytest.fixture
def app(tmp_path: Path, real_kube: RealKube) -> Iterator[RealApp]:
    made = make_app(tmp_path, real_kube.kubeconfig, commits=20)
    yield made
    destroy(made)


@pytest.mark.timeout(600)
def test_twenty_concurrent_deploys_end_with_the_newest_commit(app: RealApp) -> None:
    started = time.monotonic()
    procs = []
    for commit in app.commits:  # c1 .. c20, 0.2 s apart
        procs.append(app.popen(*app.deploy_args(commit, "--lock-wait", "300")))
        time.sleep(0.2)
    outputs = [p.communicate(timeout=400) for p in procs]
    seconds = time.monotonic() - started
    codes = [p.returncode for p in procs]
    assert codes == [0] * 20, [
        (i + 1, c, err[-400:]) for i, (c, (_, err)) in enumerate(zip(codes, outputs, strict=True))
    ]
    reports = [json.loads(out) for out, _ in outputs]
    outcomes = [r["outcome"] for r in reports]
    assert outcomes[-1] in ("succeeded", "unchanged"), reports[-1]
    for report in reports:
        assert report["outcome"] in ("succeeded", "unchanged", "superseded")
        if report["outcome"] == "superseded":
            assert "newer" in report["error"] or "older" in report["error"], report["error"]
    ns = reports[-1]["namespace"]
    api = kube_api(app.kubeconfig)
    assert deployed_commit(api, ns) == app.commits[-1]
    notes = namespace_annotations(api, ns)
    assert notes["deploytag.dev/commit"] == app.commits[-1]
    assert notes["deploytag.dev/newest-commit"] == app.commits[-1]
    deployed = [i + 1 for i, o in enumerate(outcomes) if o != "superseded"]
    print(
        f"\n20 deploys 0.2 s apart: all exit 0 in {seconds:.1f} s; deployed by c{deployed}, the rest superseded"
    )


def test_a_late_retry_of_an_older_commit_does_not_roll_the_branch_back(app: RealApp) -> None:
    c3, c5, c6 = app.commits[2], app.commits[4], app.commits[5]
    first = app.deploy(c5)
    assert first.returncode == 0, first.stderr
    ns = first.json()["namespace"]
    api = kube_api(app.kubeconfig)

    retry = app.run("deploy", "--branch", app.branch, "--commit", c3)  # text output, as CI shows it
    assert retry.returncode == 0, retry.stderr
    assert retry.stdout.count("\n") == 1 and retry.stdout.startswith("superseded: "), retry.stdout
    assert c3[:12] in retry.stdout and c5[:12] in retry.stdout
    assert deployed_commit(api, ns) == c5

    # A person's choice: deploy the older commit on purpose.
    chosen = app.deploy(c3, "--allow-older-commit")
    assert chosen.returncode == 0, chosen.stderr
    assert chosen.json()["outcome"] == "succeeded"
    assert deployed_commit(api, ns) == c3
    # ... after which a late retry of a commit between is still older than the newest (c5).
    again = app.deploy(app.commits[3])
    assert again.returncode == 0 and again.json()["outcome"] == "superseded"
    assert deployed_commit(api, ns) == c3
    # A newer push deploys.
    newer = app.deploy(c6)
    assert newer.returncode == 0 and newer.json()["outcome"] == "succeeded"
    assert deployed_commit(api, ns) == c6


def test_when_git_cannot_tell_the_request_time_decides_and_the_log_says_so(app: RealApp) -> None:
    unknown = "f" * 40  # not in the local clone, as in a shallow CI checkout
    first = app.deploy(app.commits[0])
    assert first.returncode == 0, first.stderr
    later = app.deploy(unknown)
    assert later.returncode == 0, later.stderr
    assert later.json()["outcome"] == "succeeded"  # requested after c1 was
    assert "git cannot tell" in later.stderr and "comparing request times" in later.stderr
    ns = later.json()["namespace"]
    assert deployed_commit(kube_api(app.kubeconfig), ns) == unknown


def test_the_running_holder_gives_way_to_a_newer_commit(app: RealApp) -> None:
    import kubernetes

    c1, c2, c3 = app.commits[:3]
    first = app.deploy(c1)
    assert first.returncode == 0, first.stderr
    ns = first.json()["namespace"]
    api = kube_api(app.kubeconfig)
    apps = kubernetes.client.AppsV1Api(api)
    # c2 applies a Deployment that never becomes ready: its run sits in verify, holding the lease.
    slow = app.popen(*app.deploy_args(c2, "--set", "neverReady=true", "--timeout", "120"))
    deadline = time.monotonic() + 60
    while not apps.list_namespaced_deployment(ns).items:
        assert time.monotonic() < deadline, "c2's release was never applied"
        time.sleep(0.1)
    started = time.monotonic()
    newer = app.deploy(c3, "--lock-wait", "60")
    seconds = time.monotonic() - started
    out, err = slow.communicate(timeout=60)
    assert slow.returncode == 0, err
    stopped = json.loads(out)
    assert stopped["outcome"] == "superseded"
    assert f"a newer commit, {c3[:12]}, was requested" in stopped["error"]
    assert stopped["steps"][-1]["outcome"] == "superseded"
    assert newer.returncode == 0, newer.stderr
    assert newer.json()["outcome"] == "succeeded"
    assert deployed_commit(api, ns) == c3
    assert apps.list_namespaced_deployment(ns).items == []  # c3's release has no Deployment
    assert seconds < 15, seconds  # not the 120 s c2 would have waited
    print(
        f"\nthe holder (in {stopped['steps'][-1]['name']}) gave way; the newer commit deployed in {seconds:.1f} s"
    )
