"""When a preview expires: its last deploy plus ``ttl_hours``, unless a pin holds it longer.

Everything is read from the namespace's annotations (DESIGN: the cluster is the source
of truth): the last deploy (``deploytag.dev/deployed-at``, or ``updated-at`` when a later
run failed: a failing push is still someone working on it), the pin
(``deploytag.dev/pinned-until``: an RFC 3339 time or ``forever``, written by
`deploytag pin`) and the mark gc leaves on previews about to expire
(``deploytag.dev/expiring``: when, for PR feedback to warn).
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from deploytag.capabilities.context import annotation
from deploytag.capabilities.namespace import KIND_LABEL
from deploytag.core.timestamps import parse_rfc3339, rfc3339
from deploytag.ports.cluster import NamespaceInfo

PINNED_UNTIL = annotation("pinned-until")
EXPIRING = annotation("expiring")
FOREVER = "forever"
HOUR = 3600.0


class Expiry(msgspec.Struct, frozen=True):
    last_deploy: float | None  # epoch seconds; None when nothing is recorded
    expires_at: float | None  # None: never by TTL (permanent, pinned indefinitely, ttl_hours off)
    pinned_until: str  # "", "forever" or the RFC 3339 end of the pin

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def expiring(self, now: float, warn_hours: float | None) -> bool:
        """Not expired yet, but within ``warn_hours`` of it."""
        if warn_hours is None or self.expires_at is None or self.expired(now):
            return False
        return self.expires_at - now <= warn_hours * HOUR

    def pinned(self, now: float) -> bool:
        if self.pinned_until == FOREVER:
            return True
        end = parse_rfc3339(self.pinned_until)
        return end is not None and end > now

    @property
    def expires_text(self) -> str:
        """RFC 3339, "never", or "" when unknown (no deploy recorded)."""
        if self.expires_at is not None:
            return rfc3339(self.expires_at)
        return "never" if self.last_deploy is not None or self.pinned_until else ""


def last_deploy(ns: NamespaceInfo) -> float | None:
    a = ns.annotations
    times = [parse_rfc3339(a.get(annotation(key))) for key in ("deployed-at", "updated-at")]
    found = [t for t in times if t is not None]
    if found:
        return max(found)
    return parse_rfc3339(a.get(annotation("created-at")) or ns.created_at)


def expiry_of(ns: NamespaceInfo, *, ttl_hours: float | None) -> Expiry:
    pinned = _pin(ns.annotations)
    last = last_deploy(ns)
    if ns.labels.get(KIND_LABEL) != "preview" or ttl_hours is None or last is None or pinned == FOREVER:
        return Expiry(last_deploy=last, expires_at=None, pinned_until=pinned)
    expires = last + ttl_hours * HOUR
    pin_end = parse_rfc3339(pinned)
    if pin_end is not None:
        expires = max(expires, pin_end)
    return Expiry(last_deploy=last, expires_at=expires, pinned_until=pinned)


def _pin(annotations: Mapping[str, str]) -> str:
    value = annotations.get(PINNED_UNTIL, "")
    if value == FOREVER or parse_rfc3339(value) is not None:
        return value
    return ""  # unreadable: treated as no pin, so a typo never keeps an environment forever
