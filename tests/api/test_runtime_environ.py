"""The programs the library starts (git, helm) get the Runtime's environment, not the process's."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from deploytag import api
from realkube import RealKube

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "guestbook"


def git_repo(path: Path, branch: str) -> None:
    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=path,
            check=True,
            capture_output=True,
        )

    git("init", "-q", "-b", branch)
    git("add", "-A")
    git("commit", "-q", "--allow-empty", "-m", "c1")


def test_git_reads_the_branch_with_the_runtimes_environment(tmp_path: Path) -> None:
    repo = tmp_path / "guestbook"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns(".deploytag", "__pycache__"))
    (repo / "secrets.local.yaml").chmod(0o600)
    git_repo(repo, "feature/here")
    other = tmp_path / "other"
    other.mkdir()
    git_repo(other, "feature/elsewhere")
    assert "GIT_DIR" not in os.environ
    environ = {
        "DEPLOYTAG_CLUSTER__PROVIDER": "memory",
        "PATH": os.environ.get("PATH", ""),
        "GIT_DIR": str(other / ".git"),  # only the Runtime has it: git must see it there
    }
    runtime = api.Runtime(stdout=io.StringIO(), stderr=io.StringIO(), environ=environ, repo=repo)
    result = api.plan(runtime=runtime, options=api.PlanOptions(render=False))
    assert result.branch == "feature/elsewhere"
    assert result.branch_source == "git"


@pytest.mark.cluster
def test_the_cluster_is_the_runtimes_kubeconfig(tmp_path: Path, real_kube: RealKube) -> None:
    repo = tmp_path / "guestbook"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns(".deploytag", "__pycache__"))
    environ = {"PATH": os.environ.get("PATH", ""), "KUBECONFIG": str(real_kube.kubeconfig)}
    if real_kube.context:
        environ["DEPLOYTAG_CLUSTER__CONTEXT"] = real_kube.context
    runtime = api.Runtime(stdout=io.StringIO(), stderr=io.StringIO(), environ=environ, repo=repo)
    # The process's KUBECONFIG (if any) points elsewhere: the call must use the runtime's.
    os_kubeconfig = os.environ.get("KUBECONFIG")
    os.environ["KUBECONFIG"] = str(tmp_path / "missing-kubeconfig")
    try:
        rows = api.list_environments(runtime=runtime, options=api.ListOptions(all_apps=True))
    finally:
        if os_kubeconfig is None:
            del os.environ["KUBECONFIG"]
        else:
            os.environ["KUBECONFIG"] = os_kubeconfig
    assert isinstance(rows, list)
