"""Times as DeployTag writes them into annotations and names (UTC, second precision)."""

from __future__ import annotations

import datetime


def rfc3339(epoch: float) -> str:
    """``2026-11-21T21:36:10Z``: what Kubernetes shows for creationTimestamp."""
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def compact(epoch: float) -> str:
    """``20261121T213610Z``: the same instant, for use inside identifiers."""
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_rfc3339(text: str | None) -> float | None:
    """The epoch of an RFC 3339 time as written by ``rfc3339`` (or the API server); None if unreadable."""
    if not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
