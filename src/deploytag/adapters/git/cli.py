"""GitReader over the git binary, through the process choke point."""

from __future__ import annotations

import logging
import urllib.parse
from pathlib import Path

from deploytag.core.errors import CommandError, PlanError, ToolMissingError
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

    def remote_branches(self, *, repo: Path, remote: str) -> frozenset[str]:
        url = self.remote_url(repo=repo, name=remote)
        if url is None:
            raise PlanError(
                f"git remote {remote!r} is not configured in {repo}",
                hint="pass --remote NAME (see `git remote -v`) or set gc.remote in deploytag.yaml",
            )
        # GIT_TERMINAL_PROMPT=0: a remote asking for a password fails instead of hanging CI.
        result = self._runner.run(
            argv=["git", "-C", str(repo), "ls-remote", "--heads", "--end-of-options", remote],
            env={"GIT_TERMINAL_PROMPT": "0"},
            timeout_seconds=60,
            # CI remotes carry a token in the URL (https://gitlab-ci-token:TOKEN@host/...): never shown.
            secrets=_url_secrets(url),
        )
        heads: set[str] = set()
        for line in result.stdout.splitlines():
            _, _, ref = line.partition("\t")
            if ref.startswith("refs/heads/"):
                heads.add(ref.removeprefix("refs/heads/"))
        return frozenset(heads)

    def commit_author_email(self, *, repo: Path, commit: str) -> str | None:
        return self._out(repo, "log", "-1", "--format=%ae", "--end-of-options", commit) or None

    def remote_url(self, *, repo: Path, name: str = "origin") -> str | None:
        # As configured, not `git remote get-url`, which applies url.<base>.insteadOf: the host
        # people named tells gc the provider (a mirror rewrite must not hide that it is GitHub).
        try:
            return self._out(repo, "config", "--get", f"remote.{name}.url")
        except ToolMissingError as e:
            log.debug("git remote get-url: %s", e)
            return None


def _url_secrets(url: str) -> list[str]:
    if "://" not in url:
        return []
    parts = urllib.parse.urlsplit(url)
    return [s for s in (parts.password, parts.username if parts.password is None else None) if s]
