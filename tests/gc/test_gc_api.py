"""deploytag.api.gc in-process with an injected clock: the in-memory cluster, a real git repository and
a real bare remote. What is decided and marked; removal itself is end to end (test_gc_cli.py)."""

from __future__ import annotations

import io
import os
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from deploytag import api
from deploytag.adapters.memory.cluster import MemoryCluster
from deploytag.core.config import LoadedConfig
from deploytag.core.errors import NotFoundError, PlanError
from deploytag.core.timestamps import rfc3339
from deploytag.ports.cluster import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from deploytag.ports.providers import Providers
from deploytag.service.wiring import Invocation, build_providers

HOUR = 3600.0
START = 1_790_000_000.0
CONFIG = "app: shop\nbranches:\n  previews: ['feature/*']\nttl_hours: 48\n"


class Clock:
    def __init__(self) -> None:
        self.t = START

    def now(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@e"
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "shop"
    repo.mkdir()
    (repo / "deploytag.yaml").write_text(CONFIG)
    (repo / "chart").mkdir()
    (repo / "chart" / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 0.1.0\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "c1")
    for branch in ("feature/live", "feature/old"):
        git(repo, "branch", branch)
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    git(repo, "remote", "add", "origin", str(bare))
    git(bare, "update-ref", "-d", "refs/heads/main")  # main gone too: permanent, never collected
    return repo


def add_environment(
    rt: api.Runtime, cluster: MemoryCluster, branch: str, kind: str, deployed_hours_ago: float
) -> str:
    """A namespace as a deploy leaves it (labels and annotations), named as the plan names it."""
    name = api.plan(
        runtime=rt, options=api.PlanOptions(branch=branch, commit="a" * 40, render=False)
    ).namespace
    assert name is not None
    cluster.ensure_namespace(
        name=name,
        labels={
            MANAGED_BY_LABEL: MANAGED_BY_VALUE,
            "deploytag.dev/app": "shop",
            "deploytag.dev/kind": kind,
            "deploytag.dev/environment": "preview" if kind == "preview" else "staging",
        },
        annotations={
            "deploytag.dev/branch": branch,
            "deploytag.dev/deployed-at": rfc3339(START - deployed_hours_ago * HOUR),
        },
    )
    return name


def runtime(
    repo: Path, cluster: MemoryCluster, clock: Clock, extra_env: Mapping[str, str] | None = None
) -> api.Runtime:
    def providers(inv: Invocation, loaded: LoadedConfig) -> Providers:
        return build_providers(inv, loaded, clock=clock, cluster=cluster)

    environ = {"PATH": os.environ.get("PATH", ""), "GITHUB_TOKEN": "", **(extra_env or {})}
    return api.Runtime(
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        environ=environ,
        clock=clock,
        repo=repo,
        providers=providers,
    )


def annotations_of(cluster: MemoryCluster, namespace: str) -> Mapping[str, str]:
    info = cluster.get_namespace(name=namespace)
    assert info is not None, f"namespace {namespace} is gone"
    return info.annotations


def stderr_of(rt: api.Runtime) -> str:
    assert isinstance(rt.stderr, io.StringIO)  # as runtime() made it
    return rt.stderr.getvalue()


def outcomes(report: api.GcReport) -> dict[str, tuple[str, str]]:
    return {e.namespace: (e.outcome, e.reason) for e in report.environments}


def test_the_clock_decides_expiry_and_the_expiring_mark(repo: Path) -> None:
    cluster, clock = MemoryCluster(), Clock()
    rt = runtime(repo, cluster, clock)
    live = add_environment(rt, cluster, "feature/live", "preview", deployed_hours_ago=47)
    staging = add_environment(rt, cluster, "main", "permanent", deployed_hours_ago=1000)

    dry = api.gc(runtime=rt, options=api.GcOptions(dry_run=True, warn_hours=2))
    assert outcomes(dry) == {live: ("expiring", ""), staging: ("kept", "")}
    assert "deploytag.dev/expiring" not in annotations_of(cluster, live)

    marked = api.gc(runtime=rt, options=api.GcOptions(warn_hours=2))
    expires = rfc3339(START + 1 * HOUR)
    assert marked.expiring == [
        {
            "namespace": live,
            "app": "shop",
            "branch": "feature/live",
            "expires_at": expires,
            "urls": [],
            "newly_marked": True,
        }
    ]
    assert annotations_of(cluster, live)["deploytag.dev/expiring"] == expires
    second = api.gc(runtime=rt, options=api.GcOptions(warn_hours=2))
    assert [e["newly_marked"] for e in second.expiring] == [False]  # feedback warns once

    # A pin moves the expiry out of the window: the pin clears the mark, gc does not set it again.
    pinned = api.pin(runtime=rt, options=api.PinOptions(branch="feature/live", hours=24))
    assert pinned.pinned_until == rfc3339(START + 24 * HOUR)
    again = api.gc(runtime=rt, options=api.GcOptions(warn_hours=2))
    assert outcomes(again)[live] == ("kept", "")
    assert "deploytag.dev/expiring" not in annotations_of(cluster, live)

    clock.t += 25 * HOUR  # past the pin and the TTL
    late = api.gc(runtime=rt, options=api.GcOptions(dry_run=True))
    assert outcomes(late) == {live: ("would-remove", "ttl-expired"), staging: ("kept", "")}
    assert (
        next(e for e in late.environments if e.namespace == live).detail == "idle 72.0 h, past ttl_hours 48"
    )


def test_branch_gone_wins_and_a_missing_remote_stops_before_anything(repo: Path) -> None:
    cluster, clock = MemoryCluster(), Clock()
    rt = runtime(repo, cluster, clock)
    gone = add_environment(rt, cluster, "feature/gone", "preview", deployed_hours_ago=1)
    report = api.gc(runtime=rt, options=api.GcOptions(dry_run=True))
    assert outcomes(report) == {gone: ("would-remove", "branch-gone")}
    assert report.checks["changes"] == "not checked: origin is not a GitHub or GitLab repository"
    with pytest.raises(PlanError, match="git remote 'upstream' is not configured"):
        api.gc(runtime=rt, options=api.GcOptions(remote="upstream"))
    assert cluster.get_namespace(name=gone) is not None


def test_pin_without_flags_is_indefinite_and_status_shows_it(repo: Path) -> None:
    cluster, clock = MemoryCluster(), Clock()
    rt = runtime(repo, cluster, clock)
    live = add_environment(rt, cluster, "feature/live", "preview", deployed_hours_ago=1)
    add_environment(rt, cluster, "main", "permanent", deployed_hours_ago=1)
    before = api.status(runtime=rt, options=api.StatusOptions(branch="feature/live"))
    assert before.environment.expires_at == rfc3339(START + 47 * HOUR)

    pinned = api.pin(runtime=rt, options=api.PinOptions(branch="feature/live"))
    assert (pinned.namespace, pinned.pinned_until, pinned.expires_at) == (live, "forever", "never")
    during = api.status(runtime=rt, options=api.StatusOptions(branch="feature/live")).environment
    assert (during.pinned_until, during.expires_at) == ("forever", "never")
    clock.t += 1000 * HOUR
    kept = api.gc(runtime=rt, options=api.GcOptions(dry_run=True))
    assert outcomes(kept)[live] == ("kept", "")

    unpinned = api.unpin(runtime=rt, options=api.UnpinOptions(branch="feature/live"))
    assert (unpinned.pinned_until, unpinned.expires_at) == ("", rfc3339(START + 47 * HOUR))
    with pytest.raises(PlanError, match="permanent staging environment: it never expires"):
        api.pin(runtime=rt, options=api.PinOptions(branch="main"))
    with pytest.raises(NotFoundError, match="has no environment"):
        api.pin(runtime=rt, options=api.PinOptions(branch="feature/none", hours=1))


def test_a_namespace_stuck_for_minutes_is_reported_at_once_not_waited_for(repo: Path) -> None:
    cluster, clock = MemoryCluster(), Clock()
    rt = runtime(repo, cluster, clock)
    gone = add_environment(rt, cluster, "feature/gone", "preview", deployed_hours_ago=1)
    cluster.block_namespace_deletion(name=gone)  # a finalizer nobody removes
    cluster.delete_namespace(name=gone, wait=False, timeout_seconds=0)
    clock.t = time.time() + HOUR  # terminating for an hour by now

    report = api.gc(runtime=rt, options=api.GcOptions(timeout_seconds=3600))
    [entry] = report.environments
    assert (entry.outcome, entry.reason, entry.teardown) == ("failed", "branch-gone", None)
    assert "stuck (see `stuck` for what holds it); pass --force-finalize" in (entry.error or "")
    assert [s["namespace"] for s in report.stuck] == [gone]
    assert report.exception is not None
    assert report.seconds < 60  # not the hour-long --timeout


def test_gc_warns_on_the_pull_request_once_when_a_preview_is_about_to_expire(repo: Path) -> None:
    """--warn-hours marks the preview and posts the expiring-soon comment on its PR; the next
    gc, finding the mark already there, does not post or edit it again."""
    import secrets
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "feedback"))
    from double import Double, serve  # the GitHub double of the feedback tests

    served = serve(Double(token=f"ghp_{secrets.token_hex(18)}"))
    double = next(served)
    try:
        double.pulls[5] = {"head": "feature/live", "state": "open"}
        cluster, clock = MemoryCluster(), Clock()
        github = {
            "GITHUB_ACTIONS": "true",
            "GITHUB_API_URL": double.url,
            "GITHUB_REPOSITORY": double.repository,
            "GITHUB_TOKEN": double.token,
        }
        rt = runtime(repo, cluster, clock, extra_env=github)
        add_environment(rt, cluster, "feature/live", "preview", deployed_hours_ago=47)

        api.gc(runtime=rt, options=api.GcOptions(warn_hours=2))
        comments = double.comments.get(5, [])
        assert len(comments) == 1, double.calls
        body = comments[0]["body"]
        assert (
            "will be removed at " + time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(START + HOUR)) in body
        )
        assert "<!-- deploytag:app=shop;branch=feature/live -->" in body

        writes = len([c for c in double.calls if c.method in ("POST", "PATCH")])
        api.gc(runtime=rt, options=api.GcOptions(warn_hours=2))
        assert len([c for c in double.calls if c.method in ("POST", "PATCH")]) == writes  # warned once
        assert double.token not in stderr_of(rt)
    finally:
        served.close()
