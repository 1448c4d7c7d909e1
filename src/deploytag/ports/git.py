"""Reading the app repository's git state."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class GitReader(Protocol):
    def current_branch(self, *, repo: Path) -> str | None:
        """The checked-out branch, or None on a detached HEAD."""
        ...

    def head_commit(self, *, repo: Path) -> str | None: ...

    def is_ancestor(self, *, repo: Path, ancestor: str, descendant: str) -> bool | None:
        """Whether ``ancestor`` is reachable from ``descendant`` (``git merge-base --is-ancestor``).

        None when git cannot tell: a commit unknown in ``repo``, or "no" in a shallow
        clone, where the history that would connect them may be missing.
        """
        ...

    def resolve_commit(self, *, repo: Path, revision: str) -> str | None:
        """The full object id of the commit ``revision`` names in ``repo``, or None when git cannot tell."""
        ...

    def commit_author_email(self, *, repo: Path, commit: str) -> str | None:
        """The commit's author e-mail (``git log -1 --format=%ae``), or None when git cannot tell."""
        ...

    def remote_url(self, *, repo: Path, name: str = "origin") -> str | None:
        """The fetch URL of remote ``name``; None when there is no such remote, no repository or no git."""
        ...
