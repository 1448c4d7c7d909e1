"""When a preview expires: last deploy + ttl_hours, a pin holding it longer, the expiring window."""

from __future__ import annotations

import pytest

from deploytag.core.timestamps import parse_until, rfc3339
from deploytag.ports.cluster import NamespaceInfo
from deploytag.service.expiry import expiry_of

DAY = 86400.0
NOW = 1_790_000_000.0


def namespace(kind: str = "preview", **annotations: str) -> NamespaceInfo:
    return NamespaceInfo(
        name="shop-feature-x",
        labels={"deploytag.dev/kind": kind},
        annotations={f"deploytag.dev/{k.replace('_', '-')}": v for k, v in annotations.items()},
    )


def test_ttl_counts_from_the_latest_deploy_or_failed_run() -> None:
    ns = namespace(deployed_at=rfc3339(NOW - 3 * DAY), updated_at=rfc3339(NOW - 1 * DAY))
    expiry = expiry_of(ns, ttl_hours=48)
    assert expiry.expires_at == NOW + 1 * DAY
    assert not expiry.expired(NOW)
    assert expiry.expired(NOW + 1 * DAY)
    assert expiry.expiring(NOW, warn_hours=24)
    assert not expiry.expiring(NOW, warn_hours=23)


def test_a_pin_holds_past_the_ttl_and_forever_means_never() -> None:
    old = rfc3339(NOW - 10 * DAY)
    pinned = expiry_of(namespace(deployed_at=old, pinned_until=rfc3339(NOW + DAY)), ttl_hours=24)
    assert pinned.expires_at == NOW + DAY
    assert pinned.pinned(NOW)
    assert not pinned.expired(NOW)
    forever = expiry_of(namespace(deployed_at=old, pinned_until="forever"), ttl_hours=24)
    assert forever.expires_at is None
    assert forever.expires_text == "never"
    ended = expiry_of(namespace(deployed_at=old, pinned_until=rfc3339(NOW - DAY)), ttl_hours=24)
    assert ended.expired(NOW)
    assert not ended.pinned(NOW)
    garbled = expiry_of(namespace(deployed_at=old, pinned_until="next tuesday"), ttl_hours=24)
    assert garbled.expired(NOW)  # a typo never keeps an environment forever


def test_permanent_environments_and_ttl_off_never_expire() -> None:
    old = rfc3339(NOW - 100 * DAY)
    assert expiry_of(namespace("permanent", deployed_at=old), ttl_hours=1).expires_at is None
    assert expiry_of(namespace(deployed_at=old), ttl_hours=None).expires_text == "never"


def test_until_accepts_rfc3339_dates_and_offsets_and_refuses_the_past() -> None:
    assert parse_until("2026-12-24T18:00:00Z", now=0) == parse_until("2026-12-24T19:00:00+01:00", now=0)
    assert parse_until("2026-12-24T18:00", now=0) == parse_until("2026-12-24T18:00:00Z", now=0)
    assert rfc3339(parse_until("2026-12-24", now=0)) == "2026-12-24T00:00:00Z"
    with pytest.raises(ValueError, match="is not a time"):
        parse_until("tomorrow", now=0)
    with pytest.raises(ValueError, match="not in the future"):
        parse_until("2020-01-01T00:00:00Z", now=NOW)
