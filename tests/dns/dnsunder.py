"""The provider a contract test runs against, with a name prefix no other test used."""

from __future__ import annotations

from dataclasses import dataclass

from deploytag.ports.dns import DnsProvider


@dataclass
class DnsUnderTest:
    provider: DnsProvider
    zone: str
    prefix: str  # unique per test: names under it were never used before

    def name(self, label: str) -> str:
        return f"{self.prefix}{label}.{self.zone}"
