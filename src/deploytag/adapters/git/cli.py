"""GitReader over the git binary, through the process choke point."""

from __future__ import annotations

import logging
from pathlib import Path

from deploytag.core.errors import CommandError, ToolMissingError
from deploytag.ports.runner import CommandRunner

log = logging.getLogger(__name__)


class GitCli:
    def __init__(self, *, runner: CommandRunner) -> None:
        self._runner = runner

    def _out(self, repo: Path, *args: str) -> str | None:
        try:
            result = self._runner.run(argv=["git", "-C", str(repo), *args], timeout_seconds=30)
        except CommandError:
            return None
        return result.stdout.strip() or None

    def current_branch(self, *, repo: Path) -> str | None:
        return self._out(repo, "symbolic-ref", "--quiet", "--short", "HEAD")

    def head_commit(self, *, repo: Path) -> str | None:
        return self._out(repo, "rev-parse", "HEAD")

    def is_ancestor(self, *, repo: Path, ancestor: str, descendant: str) -> bool | None:
        try:
            # Exit 0: ancestor; 1: not; anything else (128: unknown commit, not a repository): cannot tell.
            result = self._runner.run(
                argv=["git", "-C", str(repo), "merge-base", "--is-ancestor", ancestor, descendant],
                timeout_seconds=30,
                check=False,
            )
        except (CommandError, ToolMissingError) as e:
            log.debug("git merge-base --is-ancestor failed: %s", e)
            return None
        if result.returncode == 0:
            return True
        if result.returncode != 1:
            return None
        # "Not an ancestor" in a shallow clone may only mean the connecting history was not fetched.
        if self._out(repo, "rev-parse", "--is-shallow-repository") == "true":
            return None
        return False

    def resolve_commit(self, *, repo: Path, revision: str) -> str | None:
        # --end-of-options: a revision is never read as an option, whatever the caller checked.
        return self._out(
            repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"
        )

    def commit_author_email(self, *, repo: Path, commit: str) -> str | None:
        return self._out(repo, "log", "-1", "--format=%ae", "--end-of-options", commit) or None

    def remote_url(self, *, repo: Path, name: str = "origin") -> str | None:
        try:
            return self._out(repo, "remote", "get-url", "--", name)
        except ToolMissingError as e:
            log.debug("git remote get-url: %s", e)
            return None
