"""Limits on previews (``limits.*``), checked before any side effect of a deploy.

Only a deploy that would create a new preview is ever refused: redeploying an
existing environment, and every permanent environment (``branches.permanent``),
never are. The count is one label-selected list of the app's preview
namespaces; a namespace being deleted no longer counts. Who a preview belongs
to is recorded on its namespace when it is created (``deploytag.dev/author``).
Two new previews racing may both pass: the limit is a guard against forgotten
environments, not a quota (the cluster's ResourceQuota is that).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path

from deploytag.capabilities.context import annotation
from deploytag.capabilities.namespace import APP_LABEL, KIND_LABEL
from deploytag.core.config.schema import Config
from deploytag.core.errors import LimitError
from deploytag.core.naming import NamePlan
from deploytag.core.timestamps import parse_rfc3339
from deploytag.ports.cluster import ENVIRONMENT_SELECTOR, NamespaceInfo, Namespaces
from deploytag.ports.git import GitReader

# Who pushed, as CI systems name them; a person's run falls back to the commit's author.
AUTHOR_VARIABLES = ("GITLAB_USER_LOGIN", "GITHUB_ACTOR")
MAX_NAMED = 5  # previews named in a refusal: enough to act on, one line


def author_of(*, environ: Mapping[str, str], git: GitReader, repo: Path, commit: str) -> str:
    """GITLAB_USER_LOGIN, GITHUB_ACTOR, else ``git log -1 --format=%ae`` of the commit, else ""."""
    for variable in AUTHOR_VARIABLES:
        value = environ.get(variable, "").strip()
        if value:
            return value
    if not commit:
        return ""
    return (git.commit_author_email(repo=repo, commit=commit) or "").strip()


def lazy_author(*, environ: Mapping[str, str], git: GitReader, repo: Path, commit: str) -> Callable[[], str]:
    """``author_of``, looked up on the first call: git starts only when a run needs the author
    (a new preview, or per-author limits), never on a redeploy."""

    @functools.cache
    def lookup() -> str:
        return author_of(environ=environ, git=git, repo=repo, commit=commit)

    return lookup


def check_limits(
    *,
    cluster: Namespaces,
    config: Config,
    names: NamePlan,
    author: str | Callable[[], str],
    existing: NamespaceInfo | None,
    now: float,
) -> None:
    """Raise LimitError when creating this preview would exceed a limit; read-only."""
    limits = config.limits
    if existing is not None or names.kind != "preview":
        return
    if not isinstance(author, str):
        author = author() if limits.max_previews_per_author is not None else ""
    if limits.max_previews is None and (limits.max_previews_per_author is None or not author):
        return
    selector = f"{ENVIRONMENT_SELECTOR},{APP_LABEL}={names.app},{KIND_LABEL}=preview"
    previews = [ns for ns in cluster.list_namespaces(label_selector=selector) if ns.phase != "Terminating"]
    if limits.max_previews is not None and len(previews) >= limits.max_previews:
        raise _refusal(
            f"app {names.app} already has {len(previews)} previews and limits.max_previews is "
            f"{limits.max_previews}",
            "limits.max_previews",
            previews,
            limits.max_previews,
            names,
            now,
        )
    if limits.max_previews_per_author is not None and author:
        own = [ns for ns in previews if ns.annotations.get(annotation("author")) == author]
        if len(own) >= limits.max_previews_per_author:
            raise _refusal(
                f"{author} already has {len(own)} previews of app {names.app} and "
                f"limits.max_previews_per_author is {limits.max_previews_per_author}",
                "limits.max_previews_per_author",
                own,
                limits.max_previews_per_author,
                names,
                now,
            )


def _refusal(
    why: str, setting: str, previews: list[NamespaceInfo], limit: int, names: NamePlan, now: float
) -> LimitError:
    oldest = sorted(previews, key=_created)[: min(len(previews) - limit + 1, MAX_NAMED)]
    listed = ", ".join(f"{_branch(ns)} ({age(now - _created(ns))} old)" for ns in oldest)
    return LimitError(
        f"refusing a new preview for branch {names.branch!r}: {why}; nothing was created; "
        f"remove {len(previews) - limit + 1} first, oldest: {listed}",
        hint=f"deploytag destroy --branch {_branch(oldest[0])!r}, or raise {setting}",
    )


def _created(ns: NamespaceInfo) -> float:
    return parse_rfc3339(ns.annotations.get(annotation("created-at")) or ns.created_at) or 0.0


def _branch(ns: NamespaceInfo) -> str:
    return ns.annotations.get(annotation("branch")) or ns.name


def age(seconds: float) -> str:
    """A short age for people: 45m, 5h, 12d."""
    seconds = max(seconds, 0.0)
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"
