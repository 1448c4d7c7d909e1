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


def parse_until(text: str, *, now: float) -> float:
    """The epoch of a time a person typed for ``--until``: RFC 3339 / ISO 8601, UTC when no offset is
    given, a bare date meaning its midnight (UTC). Raises ValueError, saying why, when it is not a
    time or not in the future."""
    raw = text.strip()
    try:
        when = datetime.datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a time; write e.g. 2026-12-24T18:00:00Z or 2026-12-24") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    epoch = when.timestamp()
    if epoch <= now:
        raise ValueError(f"{text!r} is not in the future (now is {rfc3339(now)})")
    return epoch
