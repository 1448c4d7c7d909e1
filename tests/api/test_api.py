"""deploytag.api in-process: a Runtime whose environment is a dict, the in-memory cluster, the real helm.

No test here touches os.environ: everything the library reads comes from the Runtime.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from deploytag import api
from deploytag.adapters.memory.cluster import MemoryCluster
from deploytag.core.config import LoadedConfig
from deploytag.core.errors import ExitStatus, NotFoundError
from deploytag.ports.cluster import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from deploytag.ports.providers import Providers
from deploytag.service.wiring import Invocation, build_providers, load

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from cliutil import copy_example, run

from realkube import RealKube

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FixedClock:
    """Wall clock stopped at 2026-01-02T03:04:05Z; durations advance only when slept."""

    def __init__(self) -> None:
        self.t = 1767323045.0

    def now(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def environment_labels() -> dict[str, str]:
    """The labels a deploy puts on a preview's namespace (spelled out: tests do not import the steps)."""
    return {
        MANAGED_BY_LABEL: MANAGED_BY_VALUE,
        "deploytag.dev/app": "guestbook",
        "deploytag.dev/kind": "preview",
        "deploytag.dev/environment": "preview",
    }


def runtime(repo: Path, helm: Path | None = None, **environ: str) -> api.Runtime:
    env = {"DEPLOYTAG_CLUSTER__PROVIDER": "memory", "PATH": os.environ.get("PATH", ""), **environ}
    if helm is not None:
        env["DEPLOYTAG_TOOLS__HELM"] = str(helm)
    return api.Runtime(stdout=io.StringIO(), stderr=io.StringIO(), environ=env, clock=FixedClock(), repo=repo)


def with_cluster(rt: api.Runtime, cluster: MemoryCluster) -> api.Runtime:
    """The same runtime with one in-memory cluster shared by every call (the factory override)."""

    def providers(inv: Invocation, loaded: LoadedConfig) -> Providers:
        return build_providers(inv, loaded, clock=rt.clock, cluster=cluster)

    return api.Runtime(
        stdout=rt.stdout,
        stderr=rt.stderr,
        environ=rt.environ,
        clock=rt.clock,
        repo=rt.repo,
        providers=providers,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


def test_plan_renders_with_real_helm_and_returns_the_typed_result(repo: Path, helm_bin: Path) -> None:
    result = api.plan(
        runtime=runtime(repo, helm_bin),
        options=api.PlanOptions(branch="feature/login", commit=COMMIT, set_values={"replicaCount": "2"}),
    )
    assert isinstance(result, api.PlanResult)
    assert (result.deploy, result.branch, result.branch_source) == (True, "feature/login", "flag")
    assert result.namespace is not None and result.namespace.startswith("guestbook-feature-login")
    assert result.kind == "preview"
    assert result.manifests, "the chart was rendered"
    assert result.rendered_dir is not None and (repo / result.rendered_dir).is_dir()
    assert not [f for f in result.findings if f["severity"] == "error"]


def test_branch_comes_from_the_runtimes_environ_not_the_process(repo: Path) -> None:
    assert "GITHUB_REF_NAME" not in os.environ
    rt = runtime(repo, GITHUB_ACTIONS="true", GITHUB_REF_NAME="bug/crash", GITHUB_SHA=COMMIT)
    result = api.plan(runtime=rt, options=api.PlanOptions(render=False))
    assert (result.branch, result.branch_source, result.commit) == ("bug/crash", "github", COMMIT)
    assert result.namespace is not None and result.namespace.startswith("guestbook-bug-crash")
    assert result.manifests == []


def test_config_overrides_come_from_the_runtimes_environ(repo: Path) -> None:
    rt = runtime(repo, DEPLOYTAG_APP="shop")
    result = api.plan(runtime=rt, options=api.PlanOptions(branch="feature/x", commit=COMMIT, render=False))
    assert result.namespace is not None and result.namespace.startswith("shop-feature-x")
    assert result.release is not None and result.release.startswith("shop-feature-x")


def test_deploy_of_a_branch_no_rule_matches_is_skipped_without_side_effects(repo: Path) -> None:
    cluster = MemoryCluster()
    rt = with_cluster(runtime(repo), cluster)
    report = api.deploy(runtime=rt, options=api.DeployOptions(branch="docs/typo", commit=COMMIT))
    assert isinstance(report, api.DeployReport)
    assert (report.outcome, report.branch, report.namespace) == ("skipped", "docs/typo", None)
    assert report.exception is None
    assert cluster.list_namespaces(label_selector=f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}") == []


def test_status_list_and_destroy_read_the_cluster_the_runtime_provides(repo: Path) -> None:
    cluster = MemoryCluster()
    rt = with_cluster(runtime(repo), cluster)
    options = api.StatusOptions(branch="feature/login", commit=COMMIT)
    planned = api.plan(
        runtime=rt, options=api.PlanOptions(branch="feature/login", commit=COMMIT, render=False)
    )
    namespace = planned.namespace
    assert namespace is not None

    with pytest.raises(NotFoundError) as absent:
        api.status(runtime=rt, options=options)
    assert absent.value.exit_status == ExitStatus.NOT_FOUND
    assert api.list_environments(runtime=rt) == []

    cluster.ensure_namespace(
        name=namespace,
        labels=environment_labels(),
        annotations={"deploytag.dev/branch": "feature/login", "deploytag.dev/commit": COMMIT},
    )
    found = api.status(runtime=rt, options=options)
    assert isinstance(found, api.EnvironmentStatus)
    assert found.environment.namespace == namespace
    rows = api.list_environments(runtime=rt)
    assert [(r.namespace, r.app, r.kind) for r in rows] == [(namespace, "guestbook", "preview")]
    assert api.list_environments(runtime=rt, options=api.ListOptions(all_apps=True)) == rows


def test_destroy_removes_the_environment_on_the_real_cluster(
    repo: Path, helm_bin: Path, real_kube: RealKube
) -> None:
    branch = f"feature/api-{secrets.token_hex(3)}"
    env = {
        "DEPLOYTAG_CLUSTER__PROVIDER": "kubernetes",
        "DEPLOYTAG_CLUSTER__KUBECONFIG": str(real_kube.kubeconfig),
    }
    rt = runtime(repo, helm_bin, **env)
    namespace = api.plan(
        runtime=rt, options=api.PlanOptions(branch=branch, commit=COMMIT, render=False)
    ).namespace
    assert namespace is not None
    inv = Invocation(repo=repo, environ=dict(rt.environ))
    build_providers(inv, load(inv)).cluster.ensure_namespace(
        name=namespace, labels=environment_labels(), annotations={"deploytag.dev/branch": branch}
    )
    assert namespace in [r.namespace for r in api.list_environments(runtime=rt)]
    assert (
        api.status(runtime=rt, options=api.StatusOptions(branch=branch, commit=COMMIT)).environment.namespace
        == namespace
    )

    report = api.destroy(
        runtime=rt,
        options=api.DestroyOptions(
            branch=branch, commit=COMMIT, timeout_seconds=120, skip=frozenset({"database", "dns"})
        ),
    )
    assert isinstance(report, api.DestroyReport)
    assert report.exception is None, report.error
    assert report.outcome == "removed"
    assert [r.what for r in report.removed if r.what == "namespace" and r.verified_gone] == ["namespace"]
    assert namespace not in [r.namespace for r in api.list_environments(runtime=rt)]


def test_rollback_without_an_environment_reports_the_failure(repo: Path) -> None:
    rt = with_cluster(runtime(repo), MemoryCluster())
    report = api.rollback(runtime=rt, options=api.RollbackOptions(branch="feature/login", commit=COMMIT))
    assert isinstance(report, api.RollbackReport)
    assert report.outcome == "failed"
    assert report.exception is not None


def test_options_are_frozen_and_keyword_only() -> None:
    options = api.DeployOptions(branch="feature/x")
    with pytest.raises(AttributeError):
        options.branch = "main"  # type: ignore[misc]
    with pytest.raises(TypeError):
        api.PlanOptions("feature/x")  # type: ignore[call-arg]


def test_cli_and_api_give_the_same_plan_json(repo: Path, helm_bin: Path) -> None:
    out = repo / "rendered"
    args = ("plan", "--branch", "feature/login", "--commit", COMMIT, "--out", str(out), "--output", "json")
    cli = run(repo, *args, helm=helm_bin)
    assert cli.returncode == 0, cli.stderr
    result = api.plan(
        runtime=runtime(repo, helm_bin),
        options=api.PlanOptions(branch="feature/login", commit=COMMIT, output_dir=out),
    )
    assert json.loads(json.dumps(result.to_dict(), default=str)) == cli.json()


@pytest.mark.parametrize("args", [["--help"], ["deploy", "--help"], ["plan", "--help"]])
def test_help_imports_neither_the_api_nor_the_service(args: list[str]) -> None:
    """`--help` stays fast: the commands import deploytag.api inside their functions."""
    code = (
        "import sys\n"
        "from deploytag.cli.main import cli\n"
        "try:\n"
        f"    cli.main(args={args!r}, standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('deploytag.api', 'deploytag.service'))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "Usage:" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "[]"
