"""The DnsProvider port: record sets in one zone of one provider.

Records are whole record sets (name + type), as Route53 and RFC 2136 see them;
names are absolute, lowercase, without the trailing dot. TXT values are the
unquoted text.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Protocol

import msgspec

ADDRESS_TYPES = ("A", "AAAA", "CNAME")


class DnsRecord(msgspec.Struct, frozen=True):
    name: str
    type: str  # A, AAAA, CNAME, TXT
    values: tuple[str, ...]
    ttl: int = 300
    proxied: bool | None = None  # Cloudflare only; None where the provider has no such thing

    def same_as(self, other: DnsRecord) -> bool:
        """Equal for what DeployTag manages: values compared as sets, proxied only when both know it."""
        proxied_differs = (
            self.proxied is not None and other.proxied is not None and self.proxied != other.proxied
        )
        return (
            self.name == other.name
            and self.type == other.type
            and sorted(self.values) == sorted(other.values)
            and self.ttl == other.ttl
            and not proxied_differs
        )


def address_records(name: str, targets: Sequence[str], *, ttl: int, proxied: bool | None) -> list[DnsRecord]:
    """CNAME to a hostname, A/AAAA to IP addresses (a load balancer has one or the other)."""
    v4: list[str] = []
    v6: list[str] = []
    hosts: list[str] = []
    for target in targets:
        try:
            ip = ipaddress.ip_address(target)
        except ValueError:
            hosts.append(target.rstrip(".").lower())
            continue
        (v4 if ip.version == 4 else v6).append(str(ip))
    if hosts:
        return [DnsRecord(name=name, type="CNAME", values=(hosts[0],), ttl=ttl, proxied=proxied)]
    records = []
    if v4:
        records.append(DnsRecord(name=name, type="A", values=tuple(sorted(v4)), ttl=ttl, proxied=proxied))
    if v6:
        records.append(DnsRecord(name=name, type="AAAA", values=tuple(sorted(v6)), ttl=ttl, proxied=proxied))
    return records


class DnsProvider(Protocol):
    name: str  # provider name as configured: "cloudflare", "route53", "rfc2136", ...

    @property
    def zone(self) -> str:
        """The zone's name, e.g. example.com."""
        ...

    def describe(self) -> str:
        """Where this talks to, for messages; no credentials."""
        ...

    def record_settings(self, *, ttl: int, proxied: bool) -> tuple[int, bool | None]:
        """The TTL and proxied flag of DeployTag's records from ``dns.ttl`` and ``dns.proxied``, as
        this provider stores them (so a second run compares equal); ``None``: it has no proxy."""
        ...

    def list_records(self, *, name: str) -> list[DnsRecord]:
        """Every record set at ``name`` (any type). Raises DnsError naming the record."""
        ...

    def list_zone_records(self, *, type: str) -> list[DnsRecord]:
        """Every record set of ``type`` in the zone (the orphan sweep reads the ownership TXTs
        with it). Raises DnsError when the zone cannot be read."""
        ...

    def upsert(self, *, record: DnsRecord) -> None:
        """Create the record set or replace its values, ttl and proxied."""
        ...

    def delete(self, *, name: str, type: str) -> None:
        """Delete the record set; absent is not an error."""
        ...
