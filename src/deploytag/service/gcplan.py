"""`deploytag gc`, deciding: which environments go, and why. Reads only; changes nothing.

A preview goes when its branch is gone from the remote, when its pull/merge request was
closed or merged, or when it has been idle past its TTL (and no pin holds it). A permanent
environment never goes, nor one whose kind is not recorded as preview. Branch and change
checks need the app's own repository, so other apps' previews (``--all-apps``) are judged by
their TTL alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import msgspec

from deploytag.capabilities.context import annotation
from deploytag.capabilities.namespace import APP_LABEL, KIND_LABEL
from deploytag.core.branch import match_environment
from deploytag.core.config import LoadedConfig
from deploytag.ports.changes import ChangeRequest, ChangeRequests, GitHostError
from deploytag.ports.cluster import NamespaceInfo
from deploytag.service.expiry import HOUR, Expiry, expiry_of

log = logging.getLogger(__name__)

# Why an environment goes (the "reason" in the report and its JSON).
BRANCH_GONE = "branch-gone"
CHANGE_MERGED = "change-merged"
CHANGE_CLOSED = "change-closed"
TTL_EXPIRED = "ttl-expired"


class Verdict(msgspec.Struct, frozen=True):
    namespace: NamespaceInfo
    app: str
    branch: str
    kind: str
    expiry: Expiry
    reason: str = ""  # one of the reasons above; "" keeps it
    detail: str = ""  # the reason in words, or why it is kept
    expiring: bool = False  # kept, but within --warn-hours of its TTL


class Checks(msgspec.Struct):
    """What gc could ask, for the report: the remote's branches, the change lookup."""

    branches: str = ""
    changes: str = ""
    warnings: list[str] = msgspec.field(default_factory=list)


def judge(
    ns: NamespaceInfo,
    *,
    loaded: LoadedConfig,
    now: float,
    heads: frozenset[str] | None,
    remote: str,
    change_of: Callable[[str], ChangeRequest | None] | None,
    warn_hours: float | None,
) -> Verdict:
    """The verdict on one environment; ``heads``/``change_of`` are None for another app's."""
    app = ns.labels.get(APP_LABEL, "")
    branch = ns.annotations.get(annotation("branch"), "")
    kind = ns.labels.get(KIND_LABEL, "")
    own = app == loaded.config.app
    if own and branch:
        match = match_environment(branch, loaded.config.branches)
        if match is not None and match.kind == "permanent":
            kind = "permanent"
    expiry = expiry_of(ns, ttl_hours=loaded.config.ttl_hours)

    def keep(detail: str, *, expiring: bool = False) -> Verdict:
        return Verdict(ns, app, branch, kind, expiry, "", detail, expiring)

    def go(reason: str, detail: str) -> Verdict:
        return Verdict(ns, app, branch, kind, expiry, reason, detail)

    if kind == "permanent":
        return keep("permanent environment: never collected")
    if kind != "preview":
        return keep(f"kind {kind or '(none)'} is not preview: never collected")
    if not branch:
        return keep("no branch recorded (the orphan sweep handles it)")
    if heads is not None and branch not in heads:
        return go(BRANCH_GONE, f"branch {branch} is gone from {remote}")
    if change_of is not None:
        change = change_of(branch)
        if change is not None and change.state != "open":
            reason = CHANGE_MERGED if change.state == "merged" else CHANGE_CLOSED
            return go(reason, f"{change.label} {change.state}")
    if expiry.expired(now):
        idle = (now - expiry.last_deploy) / HOUR if expiry.last_deploy is not None else 0.0
        return go(TTL_EXPIRED, f"idle {idle:.1f} h, past ttl_hours {loaded.config.ttl_hours:g}")
    if expiry.pinned(now):
        return keep(f"pinned until {expiry.pinned_until}")
    expires = expiry.expires_text or "unknown (no deploy recorded)"
    return keep(f"expires {expires}", expiring=expiry.expiring(now, warn_hours))


def change_lookup(
    changes: ChangeRequests | None, checks: Checks
) -> Callable[[str], ChangeRequest | None] | None:
    """Ask the host once per branch; a failure is a warning in the report, never a removal."""
    if changes is None:
        return None
    failed: list[bool] = []

    def lookup(branch: str) -> ChangeRequest | None:
        if failed:
            return None
        try:
            return changes.for_branch(branch=branch)
        except GitHostError as e:
            failed.append(True)  # one refusal (bad token, rate limit) would repeat for every branch
            checks.warnings.append(f"pull/merge requests not checked: {e}")
            log.warning("pull/merge requests not checked: %s", e)
            return None

    return lookup
