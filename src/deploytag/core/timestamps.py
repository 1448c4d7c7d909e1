"""Times as DeployTag writes them into annotations and names (UTC, second precision)."""

from __future__ import annotations

import datetime


def rfc3339(epoch: float) -> str:
    """``2026-11-21T21:36:10Z``: what Kubernetes shows for creationTimestamp."""
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def compact(epoch: float) -> str:
    """``20261121T213610Z``: the same instant, for use inside identifiers."""
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
