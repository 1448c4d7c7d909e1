"""`deploytag gc`, `pin` and `unpin` end to end: the installed CLI against the real control plane and
real helm, with a real git remote (a bare repository behind a github.com URL, through git's
url.<base>.insteadOf) and the git hosts' HTTP double for pull requests.

One module-scoped fleet, deployed once: app A (branches gone, stuck, idle, pinned, and main, its
permanent environment) and app B (another app, one preview). The tests run in order, each going on
from where the last one left the cluster: dry run, a removal with one failure, then TTL, pins and
--all-apps.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The whole SDK, at collection: once an in-process adapter has made its narrow import
# (adapters/kubernetes/sdk.py), `kubernetes.client`'s models are no longer reachable.
import kubernetes
import pytest
from githost import GITHUB_TOKEN, GitHostDouble, serve

from realkube import RealKube

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e_real"))
from realapp import RealApp, git, kube_api, make_app

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(240)]

PREVIEWS = ("feature/gone", "feature/stuck", "feature/idle", "feature/pinned")
REMOTE_URL = "https://github.com/acme/shop.git"
# 0.36 s: everything deployed before is past it. Only ever for this app's own previews (never with
# --all-apps outside a dry run): the cluster may be shared with other tests' apps.
TINY_TTL = ("--ttl-hours", "0.0001")
BLOCKER = "deploytag.test/block"  # a finalizer nobody removes: its namespace cannot finish deleting
NO_TOKENS = {"GITHUB_TOKEN": "", "GH_TOKEN": "", "GITLAB_TOKEN": "", "CI_JOB_TOKEN": ""}


@dataclass
class Fleet:
    a: RealApp
    b: RealApp
    namespaces: dict[str, str]  # "a:feature/gone" -> namespace
    api: Any
    githost: GitHostDouble
    ghost_lease: str  # an orphan for the sweep

    def ns(self, key: str) -> str:
        return self.namespaces[key]

    def gc(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
        result = self.a.run("gc", "-o", "json", *args, env={**NO_TOKENS, **(env or {})})
        data = result.json() if result.stdout.strip() else {}
        return result.returncode, data, result.stderr

    def exists(self, namespace: str) -> bool:

        try:
            kubernetes.client.CoreV1Api(self.api).read_namespace(namespace)
        except kubernetes.client.ApiException as e:
            if e.status == 404:
                return False
            raise
        return True

    def versions(self) -> dict[str, str]:

        core = kubernetes.client.CoreV1Api(self.api)
        found = {}
        for ns in self.namespaces.values():
            try:
                found[ns] = core.read_namespace(ns).metadata.resource_version
            except kubernetes.client.ApiException:
                found[ns] = "absent"
        return found

    def annotations(self, namespace: str) -> dict[str, str]:

        return dict(
            kubernetes.client.CoreV1Api(self.api).read_namespace(namespace).metadata.annotations or {}
        )

    def replicas(self, namespace: str, deployment: str) -> int:

        found = kubernetes.client.AppsV1Api(self.api).read_namespaced_deployment(deployment, namespace)
        return int(found.spec.replicas)

    def last_deployed(self, namespace: str, *, days_ago: float) -> None:
        import datetime

        when = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days_ago)
        stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        notes = {"deploytag.dev/deployed-at": stamp, "deploytag.dev/updated-at": stamp}
        kubernetes.client.CoreV1Api(self.api).patch_namespace(namespace, {"metadata": {"annotations": notes}})

    def unblock(self) -> None:

        core = kubernetes.client.CoreV1Api(self.api)
        try:
            core.patch_namespaced_config_map(
                "blocker", self.ns("a:feature/stuck"), {"metadata": {"finalizers": None}}
            )
        except kubernetes.client.ApiException as e:
            if e.status != 404:
                raise


def deploy(app: RealApp, branch: str, *extra: str, status: int = 0) -> str:
    result = app.run("deploy", "--branch", branch, "--commit", app.commits[-1], "-o", "json", *extra)
    assert result.returncode == status, result.stderr
    return str(result.json()["namespace"])


def orphan_lease(api: Any, name: str) -> None:
    """A lock Lease as a killed run leaves it: ours, its namespace gone, expired two hours ago."""
    import datetime

    renewed = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2)
    body = {
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "deploytag"}},
        "spec": {"holderIdentity": "killed-run", "leaseDurationSeconds": 15, "renewTime": renewed},
    }
    kubernetes.client.CoordinationV1Api(api).create_namespaced_lease("default", body)


def lease_exists(api: Any, name: str) -> bool:

    try:
        kubernetes.client.CoordinationV1Api(api).read_namespaced_lease(name, "default")
    except kubernetes.client.ApiException as e:
        if e.status == 404:
            return False
        raise
    return True


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, real_kube: RealKube) -> Iterator[Fleet]:

    tmp = tmp_path_factory.mktemp("gc")
    a = make_app(tmp, real_kube.kubeconfig, commits=1)
    b = make_app(tmp, real_kube.kubeconfig, commits=1)
    bare = tmp / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(a.repo), str(bare)], check=True)
    git(a.repo, "remote", "add", "origin", REMOTE_URL)
    git(a.repo, "config", f"url.{bare}.insteadOf", REMOTE_URL)
    namespaces = {}
    for branch in PREVIEWS:
        git(a.repo, "branch", branch)
        git(a.repo, "push", "-q", "origin", branch)
        # idle runs a Deployment that never gets ready (no node): something for sleep to scale down.
        extra = ("--set", "neverReady=true", "--timeout", "3") if branch == "feature/idle" else ()
        namespaces[f"a:{branch}"] = deploy(a, branch, *extra, status=11 if extra else 0)
    namespaces["a:main"] = deploy(a, "main")
    namespaces["b:feature/other"] = deploy(b, "feature/other")
    # Gone from the remote, as after a merge with "delete branch"; main too (the bare repository's
    # HEAD, so removed there), which must not matter: a permanent environment is never collected.
    for branch in ("feature/gone", "feature/stuck"):
        git(a.repo, "push", "-q", "origin", "--delete", branch)
    git(bare, "update-ref", "-d", "refs/heads/main")
    api = kube_api(real_kube.kubeconfig)
    kubernetes.client.CoreV1Api(api).create_namespaced_config_map(
        namespaces["a:feature/stuck"],
        {"metadata": {"name": "blocker", "finalizers": [BLOCKER]}, "data": {}},
    )
    pinned = a.run("pin", "--branch", "feature/pinned", "--hours", "2", "-o", "json")
    assert pinned.returncode == 0, pinned.stderr
    ghost = f"deploytag-{a.app}-feature-ghost"
    orphan_lease(api, ghost)
    for double in serve(GitHostDouble()):
        made = Fleet(a=a, b=b, namespaces=namespaces, api=api, githost=double, ghost_lease=ghost)
        try:
            yield made
        finally:
            made.unblock()
            # Whatever the tests left, removed at once; not waiting for the namespaces to finish going
            # (--timeout 1), which they do on their own.
            left = [a.popen("destroy", "--branch", branch, "--timeout", "1") for branch in PREVIEWS]
            left.append(a.popen("destroy", "--branch", "main", "--allow-permanent", "--timeout", "1"))
            left.append(b.popen("destroy", "--branch", "feature/other", "--timeout", "1"))
            for proc in left:
                proc.communicate(timeout=120)
            if lease_exists(api, ghost):
                kubernetes.client.CoordinationV1Api(api).delete_namespaced_lease(ghost, "default")


def by_namespace(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["namespace"]: e for e in report["environments"]}


def test_bad_input_is_one_line_and_changes_nothing(fleet: Fleet) -> None:
    before = fleet.versions()
    for args, status, says in [
        (("gc", "--remote", "upstream"), 4, "git remote 'upstream' is not configured"),
        (("gc", "--warn-hours", "-1"), 2, "-1"),
        (("pin", "--branch", "feature/idle", "--until", "yesterday"), 3, "is not a time"),
        (("pin", "--branch", "feature/idle", "--until", "2020-01-01T00:00:00Z"), 3, "not in the future"),
        (("pin", "--branch", "feature/idle", "--hours", "2", "--until", "2099-01-01"), 3, "not both"),
    ]:
        result = fleet.a.run(*args)
        assert result.returncode == status, (args, result.stderr)
        assert says in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert fleet.versions() == before


def test_dry_run_says_what_would_go_and_why_and_changes_nothing(fleet: Fleet) -> None:
    fleet.githost.changes = {"feature/idle": ["merged"], "feature/pinned": ["open"]}
    before = fleet.versions()
    github = {"GITHUB_TOKEN": GITHUB_TOKEN, "GITHUB_API_URL": fleet.githost.url}
    status, report, stderr = fleet.gc(
        "--dry-run", "--all-apps", "--warn-hours", "1000", *TINY_TTL, env=github
    )
    assert status == 0, stderr
    assert report["dry_run"] is True
    assert report["checks"]["changes"] == "github acme/shop"
    envs = by_namespace(report)
    expected = {
        "a:feature/gone": ("would-remove", "branch-gone"),
        "a:feature/stuck": ("would-remove", "branch-gone"),
        "a:feature/idle": ("would-remove", "change-merged"),
        "a:feature/pinned": ("kept", ""),
        "a:main": ("kept", ""),
        "b:feature/other": ("would-remove", "ttl-expired"),  # another app's: by TTL only
    }
    for key, (outcome, reason) in expected.items():
        entry = envs[fleet.ns(key)]
        assert (entry["outcome"], entry["reason"]) == (outcome, reason), entry
    assert envs[fleet.ns("a:feature/idle")]["detail"] == "pull request #100 merged"
    assert envs[fleet.ns("a:feature/pinned")]["detail"].startswith("pinned until ")
    assert envs[fleet.ns("a:main")]["detail"] == "permanent environment: never collected"
    assert fleet.versions() == before  # nothing removed, nothing marked
    swept = {o["orphan"]["name"]: o for o in report["orphans"]}
    assert swept[fleet.ghost_lease]["dry_run"] is True
    assert lease_exists(fleet.api, fleet.ghost_lease)

    text = fleet.a.run("gc", "--dry-run", env=NO_TOKENS)
    assert text.returncode == 0, text.stderr
    assert "dry run: nothing changed; 2 of 5 environments would go" in text.stdout
    gone = re.escape(fleet.ns("a:feature/gone"))
    assert re.search(
        rf"^{gone} +feature/gone +would-remove +branch-gone +branch feature/gone is gone", text.stdout, re.M
    )


def test_removal_in_parallel_goes_on_past_a_failure_and_exits_non_zero(fleet: Fleet) -> None:
    # 15 s: enough for a namespace to go (the namespace controller takes ~7 s here), then the stuck one fails.
    status, report, stderr = fleet.gc(
        "--parallel", "2", "--timeout", "15", "--warn-hours", "1000", "--sleep-after-hours", "0.0001"
    )
    assert status == 8, stderr  # a cluster error: the stuck namespace did not go
    assert report["checks"]["changes"] == "not checked: no GITHUB_TOKEN (or GH_TOKEN) for GitHub"
    envs = by_namespace(report)
    gone = envs[fleet.ns("a:feature/gone")]
    assert (gone["outcome"], gone["reason"]) == ("removed", "branch-gone")
    teardown = {r["what"]: r for r in gone["teardown"]["removed"]}
    assert teardown["namespace"]["existed"] and teardown["namespace"]["verified_gone"]
    assert teardown["helm release"]["verified_gone"]
    assert not fleet.exists(fleet.ns("a:feature/gone"))
    stuck = envs[fleet.ns("a:feature/stuck")]
    assert stuck["outcome"] == "failed"
    assert "still present after destroy: namespace" in stuck["error"]
    assert report["failed"] == [fleet.ns("a:feature/stuck")]
    assert report["removed"] == [fleet.ns("a:feature/gone")]
    assert f"1 of 2 environments could not be removed: {fleet.ns('a:feature/stuck')}" in stderr
    # Kept: alive branches within their TTL, marked expiring for PR feedback; main; the other app.
    idle = fleet.ns("a:feature/idle")
    assert envs[idle]["outcome"] == "expiring"
    [expiring] = [e for e in report["expiring"] if e["namespace"] == idle]
    assert (expiring["branch"], expiring["expires_at"], expiring["newly_marked"]) == (
        "feature/idle",
        envs[idle]["expires_at"],
        True,
    )
    assert fleet.annotations(idle)["deploytag.dev/expiring"] == envs[idle]["expires_at"]
    assert envs[fleet.ns("a:main")]["outcome"] == "kept"
    # The stuck namespace is reported with what holds it.
    stuck = {s["namespace"]: s for s in report["stuck"]}
    held = stuck[fleet.ns("a:feature/stuck")]["holding"]
    assert [(h["kind"], h["name"], h["finalizers"]) for h in held] == [("ConfigMap", "blocker", [BLOCKER])]
    # Idle previews sleep (the never-ready Deployment scaled to 0, replicas recorded); pinned ones do not.
    assert envs[idle]["sleep"] == "slept"
    assert fleet.replicas(idle, "never-ready") == 0
    assert '"Deployment/never-ready":1' in fleet.annotations(idle)["deploytag.dev/sleeping"]
    assert envs[fleet.ns("a:feature/pinned")]["sleep"] == ""
    # The orphan sweep removed the killed run's Lease.
    swept = {o["orphan"]["name"]: o for o in report["orphans"]}
    assert swept[fleet.ghost_lease]["removed"] is True
    assert not lease_exists(fleet.api, fleet.ghost_lease)
    assert fleet.ns("b:feature/other") not in envs  # without --all-apps another app is not even looked at
    assert fleet.exists(fleet.ns("b:feature/other"))


def test_ttl_expiry_respects_pins_and_all_apps_reaches_other_apps(fleet: Fleet) -> None:
    listed = fleet.a.run("list", "-o", "json")
    rows = {r["namespace"]: r for r in listed.json()["environments"]}
    pinned = fleet.ns("a:feature/pinned")
    assert rows[pinned]["pinned_until"] and rows[pinned]["expires_at"] not in ("", "never")
    assert rows[fleet.ns("a:main")]["expires_at"] == "never"

    # The stuck one fails again after --timeout (15 s: idle, with its Deployment, takes ~10 s to go);
    # --force-finalize clears its blocker and removes it.
    # (This app's only: with --all-apps it would finalize every app's stuck namespaces.)
    status, report, stderr = fleet.gc("--force-finalize", "--timeout", "15", *TINY_TTL)
    assert status == 0, stderr
    envs = by_namespace(report)
    stuck = fleet.ns("a:feature/stuck")
    assert envs[stuck]["outcome"] in ("removed", "absent"), envs[stuck]
    # Removed again after the finalize: a verified teardown like any other.
    assert envs[stuck]["teardown"]["outcome"] in ("removed", "absent")
    assert all(r["verified_gone"] for r in envs[stuck]["teardown"]["removed"])
    assert len(report["force_finalized"]) == 1, (report["force_finalized"], report["stuck"])
    [finalized] = report["force_finalized"]
    assert (finalized["namespace"], finalized["gone"]) == (stuck, True)
    assert finalized["reason"].startswith("deploytag gc --force-finalize")
    assert not fleet.exists(stuck)
    idle = fleet.ns("a:feature/idle")
    assert (envs[idle]["outcome"], envs[idle]["reason"]) == ("removed", "ttl-expired")
    assert not fleet.exists(idle)
    assert envs[pinned]["outcome"] == "kept"
    assert fleet.exists(pinned)
    assert "deploytag.dev/expiring" not in fleet.annotations(pinned)
    assert fleet.exists(fleet.ns("b:feature/other"))  # another app's, past its TTL: not without --all-apps

    unpinned = fleet.a.run("unpin", "--branch", "feature/pinned", "-o", "json")
    assert unpinned.returncode == 0, unpinned.stderr
    assert unpinned.json()["pinned_until"] == ""
    # --all-apps with a real TTL, never a tiny one: the cluster may be shared with other tests' apps.
    # Both previews last deployed 30 days ago, as their namespaces now record.
    for key in ("a:feature/pinned", "b:feature/other"):
        fleet.last_deployed(fleet.ns(key), days_ago=30)
    status, report, stderr = fleet.gc("--all-apps", "--ttl-hours", "240")
    assert status == 0, stderr
    envs = by_namespace(report)
    for key in ("a:feature/pinned", "b:feature/other"):
        assert (envs[fleet.ns(key)]["outcome"], envs[fleet.ns(key)]["reason"]) == ("removed", "ttl-expired")
        assert not fleet.exists(fleet.ns(key))
    assert fleet.exists(fleet.ns("a:main"))  # branch gone, TTL long past: permanent all the same
