"""GitReader over the git binary, through the process choke point."""

from __future__ import annotations

from pathlib import Path

from deploytag.core.errors import CommandError
from deploytag.ports.runner import CommandRunner


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

    def resolve_commit(self, *, repo: Path, revision: str) -> str | None:
        # --end-of-options: a revision is never read as an option, whatever the caller checked.
        return self._out(
            repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"
        )
