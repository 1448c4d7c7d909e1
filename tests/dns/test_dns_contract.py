"""One contract for every DnsProvider: Cloudflare (double, via the official SDK), Route53 (moto_server),
RFC 2136 (a real BIND 9), PowerDNS (a real pdns_server with its HTTP API).

Records are read back through the provider; test_dns_failures.py also queries BIND and
PowerDNS over DNS with plain dnspython."""

from __future__ import annotations

import pytest
from dnsunder import DnsUnderTest

from deploytag.capabilities.dns import delete_records, ensure_records
from deploytag.core.dnsowner import Owner, owner_name
from deploytag.core.errors import DnsError
from deploytag.ports.dns import DnsRecord

OURS = Owner(app="guestbook", branch="feature/login")
OTHER_BRANCH = Owner(app="guestbook", branch="feature/other")


def addresses(dns: DnsUnderTest, name: str) -> dict[str, tuple[str, ...]]:
    return {r.type: r.values for r in dns.provider.list_records(name=name) if r.type != "TXT"}


def test_upsert_list_delete_round_trip(dns: DnsUnderTest) -> None:
    name = dns.name("web")
    assert dns.provider.list_records(name=name) == []
    dns.provider.upsert(record=DnsRecord(name=name, type="A", values=("192.0.2.2", "192.0.2.1"), ttl=120))
    [record] = dns.provider.list_records(name=name)
    assert (record.type, record.values, record.ttl) == ("A", ("192.0.2.1", "192.0.2.2"), 120)
    dns.provider.upsert(record=DnsRecord(name=name, type="A", values=("192.0.2.9",), ttl=120))
    assert addresses(dns, name) == {"A": ("192.0.2.9",)}
    dns.provider.delete(name=name, type="A")
    dns.provider.delete(name=name, type="A")  # absent is not an error
    assert dns.provider.list_records(name=name) == []


def test_txt_values_keep_commas_slashes_and_equals(dns: DnsUnderTest) -> None:
    name = owner_name(dns.name("web"))
    dns.provider.upsert(record=DnsRecord(name=name, type="TXT", values=(OURS.text(),), ttl=300))
    [record] = dns.provider.list_records(name=name)
    assert record.values == (OURS.text(),)


def test_ensure_creates_cname_and_owner_then_does_nothing(dns: DnsUnderTest) -> None:
    names = [dns.name("frontend"), dns.name("server")]
    first = ensure_records(
        dns.provider, names=names, targets=["lb-1.elb.example.net"], owner=OURS, ttl=300, proxied=None
    )
    assert [c.action for c in first] == ["created", "created"]
    for name in names:
        assert addresses(dns, name) == {"CNAME": ("lb-1.elb.example.net",)}
        [txt] = dns.provider.list_records(name=owner_name(name))
        assert txt.values == (OURS.text(),)
    again = ensure_records(
        dns.provider, names=names, targets=["lb-1.elb.example.net"], owner=OURS, ttl=300, proxied=None
    )
    assert [c.action for c in again] == ["unchanged", "unchanged"]


def test_record_settings_with_dns_proxied_converge(dns: DnsUnderTest) -> None:
    """``dns.proxied: true`` as every provider stores it: the capabilities ask the provider for
    TTL and proxied (they name no provider), and a second run finds nothing to change."""
    ttl, proxied = dns.provider.record_settings(ttl=300, proxied=True)
    assert proxied in (True, None)  # None: this provider has no proxy
    assert ttl == (1 if proxied else 300)
    names = [dns.name("proxied")]
    first = ensure_records(
        dns.provider, names=names, targets=["lb.example.net"], owner=OURS, ttl=ttl, proxied=proxied
    )
    assert [c.action for c in first] == ["created"]
    again = ensure_records(
        dns.provider, names=names, targets=["lb.example.net"], owner=OURS, ttl=ttl, proxied=proxied
    )
    assert [c.action for c in again] == ["unchanged"]
    assert dns.provider.record_settings(ttl=300, proxied=False) == (300, None if proxied is None else False)


def test_ensure_switches_cname_to_a_records(dns: DnsUnderTest) -> None:
    name = dns.name("web")
    ensure_records(dns.provider, names=[name], targets=["lb.example.net"], owner=OURS, ttl=300, proxied=None)
    [change] = ensure_records(
        dns.provider, names=[name], targets=["192.0.2.7", "2001:db8::7"], owner=OURS, ttl=300, proxied=None
    )
    assert change.action == "updated"
    assert addresses(dns, name) == {"A": ("192.0.2.7",), "AAAA": ("2001:db8::7",)}


def test_a_record_not_ours_is_left_alone_and_named(dns: DnsUnderTest) -> None:
    mine, theirs = dns.name("mine"), dns.name("theirs")
    dns.provider.upsert(record=DnsRecord(name=theirs, type="A", values=("198.51.100.1",), ttl=60))
    with pytest.raises(DnsError, match=rf"{theirs} exists and was not created by DeployTag"):
        ensure_records(
            dns.provider, names=[mine, theirs], targets=["lb.example.net"], owner=OURS, ttl=300, proxied=None
        )
    assert addresses(dns, theirs) == {"A": ("198.51.100.1",)}
    assert dns.provider.list_records(name=mine) == []  # checked before anything was written
    [change] = delete_records(dns.provider, names=[theirs], owner=OURS)
    assert change.action == "not-ours"
    assert addresses(dns, theirs) == {"A": ("198.51.100.1",)}


def test_record_of_another_branch_is_neither_changed_nor_deleted(dns: DnsUnderTest) -> None:
    name = dns.name("web")
    ensure_records(
        dns.provider, names=[name], targets=["other.example.net"], owner=OTHER_BRANCH, ttl=300, proxied=None
    )
    with pytest.raises(DnsError, match=rf"{name} belongs to app 'guestbook' branch 'feature/other'"):
        ensure_records(
            dns.provider, names=[name], targets=["mine.example.net"], owner=OURS, ttl=300, proxied=None
        )
    assert [c.action for c in delete_records(dns.provider, names=[name], owner=OURS)] == ["not-ours"]
    assert addresses(dns, name) == {"CNAME": ("other.example.net",)}


def test_delete_removes_ours_with_the_owner_record(dns: DnsUnderTest) -> None:
    name, absent = dns.name("web"), dns.name("never")
    ensure_records(dns.provider, names=[name], targets=["lb.example.net"], owner=OURS, ttl=300, proxied=None)
    changes = delete_records(dns.provider, names=[name, absent], owner=OURS)
    assert [(c.name, c.action) for c in changes] == [(name, "deleted"), (absent, "absent")]
    assert dns.provider.list_records(name=name) == []
    assert dns.provider.list_records(name=owner_name(name)) == []


def test_name_outside_the_zone_is_refused_before_any_write(dns: DnsUnderTest) -> None:
    inside, outside = dns.name("web"), "web.not-our-zone.net"
    with pytest.raises(DnsError, match=r"web.not-our-zone.net is not in zone"):
        ensure_records(
            dns.provider,
            names=[inside, outside],
            targets=["lb.example.net"],
            owner=OURS,
            ttl=300,
            proxied=None,
        )
    assert dns.provider.list_records(name=inside) == []


def test_foreign_txt_at_the_ownership_name_is_not_overwritten(dns: DnsUnderTest) -> None:
    name = dns.name("web")
    dns.provider.upsert(record=DnsRecord(name=owner_name(name), type="TXT", values=("v=spf1 -all",), ttl=300))
    with pytest.raises(DnsError, match=r"ownership record .* was not created by DeployTag"):
        ensure_records(
            dns.provider, names=[name], targets=["lb.example.net"], owner=OURS, ttl=300, proxied=None
        )
    [txt] = dns.provider.list_records(name=owner_name(name))
    assert txt.values == ("v=spf1 -all",)
    assert dns.provider.list_records(name=name) == []


def test_dry_run_checks_and_reports_without_writing(dns: DnsUnderTest) -> None:
    name = dns.name("web")
    [change] = ensure_records(
        dns.provider,
        names=[name],
        targets=["lb.example.net"],
        owner=OURS,
        ttl=300,
        proxied=None,
        dry_run=True,
    )
    assert change.action == "would-create"
    assert dns.provider.list_records(name=name) == []
    assert dns.provider.list_records(name=owner_name(name)) == []
    ensure_records(dns.provider, names=[name], targets=["lb.example.net"], owner=OURS, ttl=300, proxied=None)
    [gone] = delete_records(dns.provider, names=[name], owner=OURS, dry_run=True)
    assert gone.action == "would-delete"
    assert addresses(dns, name) == {"CNAME": ("lb.example.net",)}


def test_list_zone_records_finds_every_record_set_of_a_type(dns: DnsUnderTest) -> None:
    """What the orphan sweep reads: every ownership TXT in the zone, beyond one name."""
    web, api = dns.name("web"), dns.name("api")
    ensure_records(dns.provider, names=[web], targets=["192.0.2.1"], owner=OURS, ttl=300, proxied=None)
    ensure_records(
        dns.provider, names=[api], targets=["192.0.2.2"], owner=OTHER_BRANCH, ttl=300, proxied=None
    )
    mine = "dt-" + dns.prefix
    found = {r.name: r.values for r in dns.provider.list_zone_records(type="TXT") if r.name.startswith(mine)}
    assert found == {owner_name(web): (OURS.text(),), owner_name(api): (OTHER_BRANCH.text(),)}
    addresses = dns.provider.list_zone_records(type="A")
    assert {web, api} <= {r.name for r in addresses}
    assert {r.type for r in addresses} == {"A"}
