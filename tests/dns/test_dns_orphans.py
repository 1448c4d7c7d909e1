"""The orphan sweep's DNS part on every provider (real BIND and PowerDNS, moto, the Cloudflare double):
only record sets whose ownership TXT names this app and a branch with no live environment are
found, and removal re-reads that TXT first."""

from __future__ import annotations

from pathlib import Path

from dnsunder import DnsUnderTest

from deploytag.adapters.memory.cluster import MemoryCluster
from deploytag.capabilities.dns import ensure_records
from deploytag.core.dnsowner import Owner, owner_name
from deploytag.ports.dns import DnsRecord
from deploytag.service import orphans
from fleetsetup import configured, example_repo, live_environment, new_app

KINDS = frozenset({orphans.DNS_RECORD})


def test_records_of_gone_branches_are_found_and_removed_and_nothing_else(
    dns: DnsUnderTest, tmp_path: Path
) -> None:
    cluster, app = MemoryCluster(), new_app()
    loaded, providers = configured(example_repo(tmp_path), app=app, cluster=cluster, dns=dns.provider)
    live_environment(cluster, loaded, "feature/live")
    live, gone, gone_too, foreign_app, manual = (
        dns.name(x) for x in ("live", "gone", "gone2", "other", "manual")
    )

    def point(name: str, owner: Owner) -> None:
        ensure_records(dns.provider, names=[name], targets=["192.0.2.7"], owner=owner, ttl=300, proxied=None)

    point(live, Owner(app, "feature/live"))
    point(gone, Owner(app, "feature/gone"))
    point(gone_too, Owner(app, "feature/gone-too"))
    point(foreign_app, Owner("someoneelse", "feature/gone"))
    dns.provider.upsert(record=DnsRecord(name=manual, type="A", values=("192.0.2.8",)))  # no TXT: not ours

    found = orphans.find_orphans(loaded=loaded, providers=providers, kinds=KINDS)
    assert [(o.name, o.owner) for o in found] == [
        (gone, f"{app}/feature/gone"),
        (gone_too, f"{app}/feature/gone-too"),
    ]

    # Between listing and removal someone else claims one of them: it stays.
    dns.provider.upsert(
        record=DnsRecord(name=owner_name(gone_too), type="TXT", values=(Owner(app, "feature/back").text(),))
    )
    results = orphans.remove_orphans(loaded=loaded, providers=providers, orphans=found)
    assert [(r.orphan.name, r.removed) for r in results] == [(gone, True), (gone_too, False)]
    assert "ownership changed" in results[1].error
    assert dns.provider.list_records(name=gone) == []
    assert dns.provider.list_records(name=owner_name(gone)) == []
    for kept in (live, gone_too, foreign_app, manual):
        assert [r.type for r in dns.provider.list_records(name=kept)] == ["A"]
    assert orphans.find_orphans(loaded=loaded, providers=providers, kinds=KINDS)[0].name == gone_too
