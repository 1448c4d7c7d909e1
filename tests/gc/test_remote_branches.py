"""GitCli.remote_branches with the real git: a bare remote's heads, an unknown remote, an unreachable
one whose URL carries a token: never shown (git leaves it out of its message; the adapter also
scrubs it from any output, and the argv names the remote, never its URL)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deploytag.adapters.common.process import SubprocessRunner
from deploytag.adapters.git.cli import GitCli
from deploytag.core.errors import CommandError, PlanError


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "app"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", "c1")
    git(repo, "branch", "feature/a")
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(tmp_path / "origin.git")], check=True)
    git(repo, "remote", "add", "origin", str(tmp_path / "origin.git"))
    return repo


def test_heads_of_the_remote_not_of_the_clone(repo: Path, tmp_path: Path) -> None:
    reader = GitCli(runner=SubprocessRunner())
    git(repo, "branch", "feature/local-only")
    git(tmp_path / "origin.git", "update-ref", "-d", "refs/heads/feature/a")
    assert reader.remote_branches(repo=repo, remote="origin") == frozenset({"main"})


def test_unknown_remote_is_a_plan_error(repo: Path) -> None:
    with pytest.raises(PlanError, match="git remote 'upstream' is not configured"):
        GitCli(runner=SubprocessRunner()).remote_branches(repo=repo, remote="upstream")


def test_an_unreachable_remote_is_an_error_that_never_shows_its_token(repo: Path) -> None:
    git(repo, "remote", "add", "ci", "https://gitlab-ci-token:glcbt-sekrit-value@127.0.0.1:9/group/app.git")
    with pytest.raises(CommandError) as raised:
        GitCli(runner=SubprocessRunner()).remote_branches(repo=repo, remote="ci")
    shown = f"{raised.value} {raised.value.output} {raised.value.argv}"
    assert "glcbt-sekrit-value" not in shown
