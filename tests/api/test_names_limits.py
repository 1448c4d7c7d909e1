"""`plan --check-cluster` through deploytag.api, on the in-memory cluster: the refusals deploy makes
before its first side effect (another branch's names, exit 18; a new preview over limits.*, exit 19),
and what counts toward a limit; the cost estimate in list and status, and that they still work when
the workloads cannot be read. The same refusals through the CLI on the real API server:
tests/e2e_real/test_names_limits_cost.py."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from deploytag import api
from deploytag.adapters.memory.cluster import MemoryCluster
from deploytag.core.config import LoadedConfig
from deploytag.core.cost import Usage
from deploytag.core.errors import ClusterError, ExitStatus, LimitError, NameCollisionError
from deploytag.ports.cluster import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from deploytag.ports.providers import Providers
from deploytag.service.wiring import Invocation, build_providers

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from cliutil import copy_example

COMMIT = "0123456789abcdef0123456789abcdef01234567"
NOW = 1767323045.0  # 2026-01-02T03:04:05Z
DAY = 86400


class FixedClock:
    def now(self) -> float:
        return NOW

    def monotonic(self) -> float:
        return NOW

    def sleep(self, seconds: float) -> None:
        return None


def seed(
    cluster: MemoryCluster, name: str, branch: str, *, kind: str = "preview", age_days: int = 1, **notes: str
) -> None:
    from deploytag.core.timestamps import rfc3339

    labels = {
        MANAGED_BY_LABEL: MANAGED_BY_VALUE,
        "deploytag.dev/app": "guestbook",
        "deploytag.dev/kind": kind,
        "deploytag.dev/environment": "preview" if kind == "preview" else "staging",
    }
    annotations = {"deploytag.dev/branch": branch, "deploytag.dev/created-at": rfc3339(NOW - age_days * DAY)}
    annotations.update({f"deploytag.dev/{k}": v for k, v in notes.items()})
    cluster.ensure_namespace(name=name, labels=labels, annotations=annotations)


def runtime(repo: Path, cluster: MemoryCluster, **environ: str) -> api.Runtime:
    env = {
        "DEPLOYTAG_CLUSTER__PROVIDER": "memory",
        "DEPLOYTAG_BRANCHES__PREVIEWS": "feature/*,feature-*",
        "PATH": os.environ.get("PATH", ""),
        **environ,
    }
    clock = FixedClock()

    def providers(inv: Invocation, loaded: LoadedConfig) -> Providers:
        return build_providers(inv, loaded, clock=clock, cluster=cluster)

    return api.Runtime(
        stdout=io.StringIO(), stderr=io.StringIO(), environ=env, clock=clock, repo=repo, providers=providers
    )


def plan(repo: Path, cluster: MemoryCluster, branch: str, **environ: str) -> api.PlanResult:
    options = api.PlanOptions(branch=branch, commit=COMMIT, render=False, check_cluster=True)
    return api.plan(runtime=runtime(repo, cluster, **environ), options=options)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


def test_a_branch_whose_names_belong_to_another_is_refused(repo: Path) -> None:
    cluster = MemoryCluster()
    seed(cluster, "guestbook-feature-login", "feature/login")
    assert plan(repo, cluster, "feature/login").namespace == "guestbook-feature-login"  # its own: fine
    with pytest.raises(NameCollisionError) as info:
        plan(repo, cluster, "feature-login")
    assert int(info.value.exit_status) == int(ExitStatus.NAME_COLLISION) == 18
    line = str(info.value)
    assert "\n" not in line
    assert "namespace guestbook-feature-login, which belongs to branch 'feature/login'" in line
    assert "rename this branch" in line and "deploytag destroy --branch 'feature/login'" in line


def test_a_new_preview_over_max_previews_is_refused_naming_the_oldest(repo: Path) -> None:
    cluster = MemoryCluster()
    seed(cluster, "guestbook-feature-a", "feature/a", age_days=12)
    seed(cluster, "guestbook-feature-b", "feature/b", age_days=3)
    seed(cluster, "guestbook-staging", "main", kind="permanent", age_days=90)  # never counts
    with pytest.raises(LimitError) as info:
        plan(repo, cluster, "feature/c", DEPLOYTAG_LIMITS__MAX_PREVIEWS="2")
    assert int(info.value.exit_status) == int(ExitStatus.LIMIT) == 19
    line = str(info.value)
    assert "app guestbook already has 2 previews and limits.max_previews is 2" in line
    assert "remove 1 first, oldest: feature/a (12d old)" in line
    assert "feature/b" not in line  # only as many as must go
    assert line.endswith("deploytag destroy --branch 'feature/a', or raise limits.max_previews")
    with pytest.raises(
        LimitError, match=r"remove 2 first, oldest: feature/a \(12d old\), feature/b \(3d old\)"
    ):
        plan(repo, cluster, "feature/c", DEPLOYTAG_LIMITS__MAX_PREVIEWS="1")
    # Redeploying an existing preview is never refused; a limit with room lets a new one through.
    assert plan(repo, cluster, "feature/a", DEPLOYTAG_LIMITS__MAX_PREVIEWS="1").deploy
    assert plan(repo, cluster, "feature/c", DEPLOYTAG_LIMITS__MAX_PREVIEWS="3").deploy


def test_a_preview_being_deleted_no_longer_counts(repo: Path) -> None:
    cluster = MemoryCluster()
    seed(cluster, "guestbook-feature-a", "feature/a")
    cluster.block_namespace_deletion(name="guestbook-feature-a")
    cluster.delete_namespace(name="guestbook-feature-a", wait=False, timeout_seconds=0)
    assert plan(repo, cluster, "feature/c", DEPLOYTAG_LIMITS__MAX_PREVIEWS="1").deploy


def test_per_author_limit_uses_the_ci_login(repo: Path) -> None:
    cluster = MemoryCluster()
    seed(cluster, "guestbook-feature-a", "feature/a", author="bob")
    seed(cluster, "guestbook-feature-b", "feature/b", author="carol")
    limit = {"DEPLOYTAG_LIMITS__MAX_PREVIEWS_PER_AUTHOR": "1"}
    with pytest.raises(LimitError, match=r"bob already has 1 previews .* oldest: feature/a \(1d old\)"):
        plan(repo, cluster, "feature/c", GITHUB_ACTOR="bob", **limit)
    # GitLab's login comes first; someone with no preview may create one.
    assert plan(repo, cluster, "feature/c", GITLAB_USER_LOGIN="dave", GITHUB_ACTOR="bob", **limit).deploy


class NoWorkloadRights(MemoryCluster):
    """A cluster where listing namespaces is allowed but listing workloads is not (RBAC)."""

    def list_resource_requests(self, *, namespace: str | None) -> list[Usage]:
        raise ClusterError("listing deployments is forbidden", hint="ask for list rights")


def test_list_and_status_show_the_estimate_and_survive_without_it(repo: Path) -> None:
    cluster = MemoryCluster()
    seed(cluster, "guestbook-feature-a", "feature/a")
    seed(cluster, "guestbook-feature-b", "feature/b")
    web = Usage(kind="Deployment", name="web", replicas=2, cpu=0.25, memory_bytes=512 * 1024**2)
    cluster.add_resource_requests(namespace="guestbook-feature-a", usage=web)
    prices = {
        "DEPLOYTAG_COST__CPU_PER_MONTH": "20",
        "DEPLOYTAG_COST__GIB_PER_MONTH": "4",
        "DEPLOYTAG_COST__CURRENCY": "EUR",
    }
    rows = api.list_environments(runtime=runtime(repo, cluster, **prices), options=api.ListOptions())
    # 0.5 vCPU x 20 + 1 GiB x 4; the other preview requests nothing.
    assert {r.branch: (r.monthly_cost, r.currency) for r in rows} == {
        "feature/a": (14.0, "EUR"),
        "feature/b": (0.0, "EUR"),
    }
    shown = api.status(
        runtime=runtime(repo, cluster, **prices), options=api.StatusOptions(branch="feature/a")
    )
    assert shown.cost == {"cpu": 0.5, "memory_gib": 1.0, "monthly": 14.0, "currency": "EUR"}

    blind = NoWorkloadRights()
    seed(blind, "guestbook-feature-a", "feature/a")
    rows = api.list_environments(runtime=runtime(repo, blind), options=api.ListOptions())
    assert [(r.branch, r.monthly_cost) for r in rows] == [("feature/a", None)]
    assert api.status(runtime=runtime(repo, blind), options=api.StatusOptions(branch="feature/a")).cost == {}


def test_status_and_destroy_never_take_another_branchs_environment_for_this_one(repo: Path) -> None:
    cluster = MemoryCluster()
    seed(cluster, "guestbook-feature-login", "feature/login")
    with pytest.raises(NameCollisionError, match="belongs to branch 'feature/login'"):
        api.status(runtime=runtime(repo, cluster), options=api.StatusOptions(branch="feature-login"))
    report = api.destroy(runtime=runtime(repo, cluster), options=api.DestroyOptions(branch="feature-login"))
    assert report.outcome == "failed"
    assert isinstance(report.exception, NameCollisionError)
    assert report.error is not None and "pass the branch that namespace was deployed for" in report.error
    assert cluster.get_namespace(name="guestbook-feature-login") is not None
