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

import pytest
from githost import GITHUB_TOKEN, GitHostDouble, serve

from realkube import RealKube

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e_real"))
from realapp import RealApp, git, kube_api, make_app

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(240)]

PREVIEWS = ("feature/gone", "feature/stuck", "feature/idle", "feature/pinned")
REMOTE_URL = "https://github.com/acme/shop.git"
TINY_TTL = ("--ttl-hours", "0.0001")  # 0.36 s: everything deployed before is past it
BLOCKER = "deploytag.test/block"  # a finalizer nobody removes: its namespace cannot finish deleting
NO_TOKENS = {"GITHUB_TOKEN": "", "GH_TOKEN": "", "GITLAB_TOKEN": "", "CI_JOB_TOKEN": ""}


@dataclass
class Fleet:
    a: RealApp
    b: RealApp
    namespaces: dict[str, str]  # "a:feature/gone" -> namespace
    api: Any
    githost: GitHostDouble

    def ns(self, key: str) -> str:
        return self.namespaces[key]

    def gc(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
        result = self.a.run("gc", "-o", "json", *args, env={**NO_TOKENS, **(env or {})})
        data = result.json() if result.stdout.strip() else {}
        return result.returncode, data, result.stderr

    def exists(self, namespace: str) -> bool:
        import kubernetes

        try:
            kubernetes.client.CoreV1Api(self.api).read_namespace(namespace)
        except kubernetes.client.ApiException as e:
            if e.status == 404:
                return False
            raise
        return True

    def versions(self) -> dict[str, str]:
        import kubernetes

        core = kubernetes.client.CoreV1Api(self.api)
        found = {}
        for ns in self.namespaces.values():
            try:
                found[ns] = core.read_namespace(ns).metadata.resource_version
            except kubernetes.client.ApiException:
                found[ns] = "absent"
        return found

    def annotations(self, namespace: str) -> dict[str, str]:
        import kubernetes

        return dict(
            kubernetes.client.CoreV1Api(self.api).read_namespace(namespace).metadata.annotations or {}
        )

    def unblock(self) -> None:
        import kubernetes

        core = kubernetes.client.CoreV1Api(self.api)
        try:
            core.patch_namespaced_config_map(
                "blocker", self.ns("a:feature/stuck"), {"metadata": {"finalizers": None}}
            )
        except kubernetes.client.ApiException as e:
            if e.status != 404:
                raise


def deploy(app: RealApp, branch: str) -> str:
    result = app.run("deploy", "--branch", branch, "--commit", app.commits[-1], "-o", "json")
    assert result.returncode == 0, result.stderr
    return str(result.json()["namespace"])


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, real_kube: RealKube) -> Iterator[Fleet]:
    import kubernetes

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
        namespaces[f"a:{branch}"] = deploy(a, branch)
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
    for double in serve(GitHostDouble()):
        made = Fleet(a=a, b=b, namespaces=namespaces, api=api, githost=double)
        try:
            yield made
        finally:
            made.unblock()
            # Whatever a failed test left, removed at once (each destroy mostly waits on the namespace).
            left = [a.popen("destroy", "--branch", branch, "--timeout", "60") for branch in PREVIEWS]
            left.append(a.popen("destroy", "--branch", "main", "--allow-permanent", "--timeout", "60"))
            left.append(b.popen("destroy", "--branch", "feature/other", "--timeout", "60"))
            for proc in left:
                proc.communicate(timeout=120)


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

    text = fleet.a.run("gc", "--dry-run", env=NO_TOKENS)
    assert text.returncode == 0, text.stderr
    assert "dry run: nothing changed; 2 of 5 environments would go" in text.stdout
    gone = re.escape(fleet.ns("a:feature/gone"))
    assert re.search(
        rf"^{gone} +feature/gone +would-remove +branch-gone +branch feature/gone is gone", text.stdout, re.M
    )


def test_removal_in_parallel_goes_on_past_a_failure_and_exits_non_zero(fleet: Fleet) -> None:
    # 15 s: enough for a namespace to go (the namespace controller takes ~7 s here), then the stuck one fails.
    status, report, stderr = fleet.gc("--parallel", "2", "--timeout", "15", "--warn-hours", "1000")
    assert status == 8, stderr  # a cluster error: the stuck namespace did not go
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
    assert {"namespace": idle, "branch": "feature/idle", "expires_at": envs[idle]["expires_at"]} in report[
        "expiring"
    ]
    assert fleet.annotations(idle)["deploytag.dev/expiring"] == envs[idle]["expires_at"]
    assert envs[fleet.ns("a:main")]["outcome"] == "kept"
    assert fleet.ns("b:feature/other") not in envs  # without --all-apps another app is not even looked at
    assert fleet.exists(fleet.ns("b:feature/other"))


def test_ttl_expiry_respects_pins_and_all_apps_reaches_other_apps(fleet: Fleet) -> None:
    fleet.unblock()
    listed = fleet.a.run("list", "-o", "json")
    rows = {r["namespace"]: r for r in listed.json()["environments"]}
    pinned = fleet.ns("a:feature/pinned")
    assert rows[pinned]["pinned_until"] and rows[pinned]["expires_at"] not in ("", "never")
    assert rows[fleet.ns("a:main")]["expires_at"] == "never"

    status, report, stderr = fleet.gc("--all-apps", *TINY_TTL)
    assert status == 0, stderr
    envs = by_namespace(report)
    for key in ("a:feature/idle", "b:feature/other"):
        assert (envs[fleet.ns(key)]["outcome"], envs[fleet.ns(key)]["reason"]) == ("removed", "ttl-expired")
        assert not fleet.exists(fleet.ns(key))
    assert envs[pinned]["outcome"] == "kept"
    assert fleet.exists(pinned)
    assert "deploytag.dev/expiring" not in fleet.annotations(pinned)

    unpinned = fleet.a.run("unpin", "--branch", "feature/pinned", "-o", "json")
    assert unpinned.returncode == 0, unpinned.stderr
    assert unpinned.json()["pinned_until"] == ""
    status, report, stderr = fleet.gc(*TINY_TTL)
    assert status == 0, stderr
    assert by_namespace(report)[pinned]["reason"] == "ttl-expired"
    assert not fleet.exists(pinned)
    assert not fleet.exists(fleet.ns("a:feature/stuck"))  # unblocked: it finished going
    assert fleet.exists(fleet.ns("a:main"))  # branch gone, TTL long past: permanent all the same
