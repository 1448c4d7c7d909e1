"""DnsProvider on the PowerDNS Authoritative HTTP API (``/api/v1``), with the standard library.

The API key comes from ``PDNS_API_KEY`` in the secret store or the environment
and travels only in the ``X-API-Key`` header. A PATCH with ``REPLACE`` or
``DELETE`` changes one whole record set, so every write is idempotent.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

from deploytag.core.errors import ConfigError, DnsError, RetryableDnsError, scrub
from deploytag.ports.dns import DnsRecord

if TYPE_CHECKING:
    from deploytag.core.config import DnsConfig

API_KEY = "PDNS_API_KEY"
KEY_HINT = f"put the server's api-key under {API_KEY} in the secret store or the environment"
_MANAGED_TYPES = ("A", "AAAA", "CNAME", "TXT")


class PowerDnsDns:
    name = "powerdns"
    credential_keys = (API_KEY,)

    def __init__(
        self, *, zone: str, url: str, api_key: str, server_id: str = "localhost", timeout: float = 10
    ) -> None:
        self._zone = zone.rstrip(".").lower()
        self.url = url.rstrip("/")
        self.server_id = server_id
        self.timeout = timeout
        self._key = api_key

    @classmethod
    def from_config(cls, *, config: DnsConfig, credentials: Mapping[str, str]) -> Self:
        if not config.zone:
            raise ConfigError("the powerdns provider needs the zone name", hint="set dns.zone or pass --zone")
        key = credentials.get(API_KEY)
        if not key:
            raise ConfigError(f"no PowerDNS API key found ({API_KEY})", hint=KEY_HINT)
        c = config.powerdns
        return cls(zone=config.zone, url=c.url, api_key=key, server_id=c.server_id, timeout=c.timeout_seconds)

    def __repr__(self) -> str:
        return f"PowerDnsDns(zone={self._zone!r}, url={self.url!r}, server_id={self.server_id!r})"

    @property
    def zone(self) -> str:
        return self._zone

    def record_settings(self, *, ttl: int, proxied: bool) -> tuple[int, bool | None]:
        return ttl, None  # no proxy: dns.proxied does not apply

    def describe(self) -> str:
        return f"powerdns zone {self._zone} at {self.url}"

    def _call(self, method: str, body: Any, name: str, doing: str) -> Any:
        zone = urllib.parse.quote(self._zone + ".")
        request = urllib.request.Request(  # noqa: S310 - the configured API URL
            f"{self.url}/api/v1/servers/{urllib.parse.quote(self.server_id)}/zones/{zone}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={
                "X-API-Key": self._key,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        where = f"{doing} DNS record {name} in {self.describe()}"
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - as above
                raw = response.read()
        except urllib.error.HTTPError as e:
            detail = scrub(e.read().decode("utf-8", "replace"), [self._key])[:300]
            if e.code in (401, 403):
                raise DnsError(f"{where}: PowerDNS refused the API key ({e.code})", hint=KEY_HINT) from e
            if e.code == 404:
                raise DnsError(
                    f"{where}: no such zone ({detail})", hint="create the zone or fix dns.zone"
                ) from e
            cls = RetryableDnsError if e.code >= 500 else DnsError
            raise cls(f"{where}: HTTP {e.code} {detail}", hint="check the record and the zone") from e
        except TimeoutError as e:
            raise RetryableDnsError(
                f"{where}: PowerDNS did not answer within {self.timeout:g} s", hint="try again shortly"
            ) from e
        except urllib.error.URLError as e:
            raise RetryableDnsError(
                f"{where}: cannot reach PowerDNS ({e.reason})", hint="check dns.powerdns.url"
            ) from e
        return json.loads(raw) if raw else None

    def list_records(self, *, name: str) -> list[DnsRecord]:
        zone = self._call("GET", None, name, "listing")
        return [
            _record(rrset)
            for rrset in zone.get("rrsets", [])
            if rrset["name"].rstrip(".").lower() == name and rrset["type"] in _MANAGED_TYPES
        ]

    def list_zone_records(self, *, type: str) -> list[DnsRecord]:
        zone = self._call("GET", None, self._zone, "listing")  # one GET has every rrset of the zone
        return [_record(rrset) for rrset in zone.get("rrsets", []) if rrset["type"] == type]

    def upsert(self, *, record: DnsRecord) -> None:
        contents = [_quote(v) if record.type == "TXT" else _absolute(record.type, v) for v in record.values]
        rrset = {
            "name": record.name + ".",
            "type": record.type,
            "ttl": record.ttl,
            "changetype": "REPLACE",
            "records": [{"content": c, "disabled": False} for c in contents],
        }
        self._call("PATCH", {"rrsets": [rrset]}, record.name, "writing")

    def delete(self, *, name: str, type: str) -> None:
        rrset = {"name": name + ".", "type": type, "changetype": "DELETE"}
        self._call("PATCH", {"rrsets": [rrset]}, name, "deleting")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def _absolute(rtype: str, value: str) -> str:
    return value.rstrip(".") + "." if rtype == "CNAME" else value


def _record(rrset: Any) -> DnsRecord:
    values = [r["content"] for r in rrset.get("records", []) if not r.get("disabled")]
    if rrset["type"] == "TXT":
        values = [_unquote(v) for v in values]
    elif rrset["type"] == "CNAME":
        values = [v.rstrip(".").lower() for v in values]
    name = rrset["name"].rstrip(".").lower()
    return DnsRecord(name=name, type=rrset["type"], values=tuple(sorted(values)), ttl=rrset["ttl"])
