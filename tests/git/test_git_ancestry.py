"""GitCli.is_ancestor with the real git binary: a linear history answers, and what git cannot
know (an unknown commit, "no" in a shallow clone) is None, never a guess."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deploytag.adapters.common.process import SubprocessRunner
from deploytag.adapters.git.cli import GitCli

ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def git(repo: Path, *args: str) -> str:
    import os

    proc = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env={**os.environ, **ENV}, check=True
    )
    return proc.stdout.strip()


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, list[str]]:
    repo = tmp_path / "app"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commits = []
    for i in range(4):
        (repo / "f").write_text(str(i))
        git(repo, "add", "f")
        git(repo, "commit", "-q", "-m", f"c{i}")
        commits.append(git(repo, "rev-parse", "HEAD"))
    return repo, commits


def test_linear_history(history: tuple[Path, list[str]]) -> None:
    repo, (c0, c1, c2, c3) = history
    cli = GitCli(runner=SubprocessRunner())
    assert cli.is_ancestor(repo=repo, ancestor=c0, descendant=c3) is True
    assert cli.is_ancestor(repo=repo, ancestor=c3, descendant=c1) is False
    assert cli.is_ancestor(repo=repo, ancestor=c2, descendant=c2) is True  # git counts itself
    assert cli.is_ancestor(repo=repo, ancestor="f" * 40, descendant=c3) is None  # not in this clone
    assert cli.is_ancestor(repo=repo.parent / "nowhere", ancestor=c0, descendant=c3) is None


def test_shallow_clone_cannot_say_no(history: tuple[Path, list[str]], tmp_path: Path) -> None:
    repo, commits = history
    c0, c3 = commits[0], commits[-1]
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow)],
        check=True,
        capture_output=True,
    )
    cli = GitCli(runner=SubprocessRunner())
    assert cli.is_ancestor(repo=shallow, ancestor=c0, descendant=c3) is None  # c0 was not fetched
    assert cli.is_ancestor(repo=shallow, ancestor=c3, descendant=c3) is True
