"""DnsProvider speaking RFC 2136 dynamic update, signed with TSIG, through dnspython.

Works with BIND, Knot, PowerDNS and Windows DNS. Reads are plain queries to the
same primary (TCP, so large TXT sets come back whole). The TSIG secret comes
from ``DNS_TSIG_SECRET`` in the secret store or the environment, never argv.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

from deploytag.adapters.common.sdkcheck import require
from deploytag.core.errors import ConfigError, DnsError, RetryableDnsError
from deploytag.ports.dns import DnsRecord

if TYPE_CHECKING:
    from deploytag.core.config import DnsConfig

TSIG_KEY = "DNS_TSIG_SECRET"
_MANAGED_TYPES = ("A", "AAAA", "CNAME", "TXT")
KEY_HINT = (
    f"check dns.rfc2136.key_name / key_algorithm and the base64 secret in {TSIG_KEY} "
    "(secret store or environment) against the server's key"
)


class Rfc2136Dns:
    name = "rfc2136"
    credential_keys = (TSIG_KEY,)

    def __init__(
        self,
        *,
        zone: str,
        server: str,
        port: int = 53,
        key_name: str | None = None,
        key_secret: str | None = None,
        key_algorithm: str = "hmac-sha256",
        timeout: float = 10,
    ) -> None:
        self._zone = zone.rstrip(".").lower()
        self.server = server
        self.port = port
        self.key_name = key_name
        self.key_algorithm = key_algorithm
        self._key_secret = key_secret
        self.timeout = timeout

    @classmethod
    def from_config(cls, *, config: DnsConfig, credentials: Mapping[str, str]) -> Self:
        require("dns.update", needed_for="the rfc2136 DNS provider (dnspython)")
        if not config.zone:
            raise ConfigError("the rfc2136 provider needs the zone name", hint="set dns.zone or pass --zone")
        c = config.rfc2136
        secret = credentials.get(TSIG_KEY)
        if c.key_name and not secret:
            raise ConfigError(f"no TSIG secret found for key {c.key_name!r} ({TSIG_KEY})", hint=KEY_HINT)
        return cls(
            zone=config.zone,
            server=c.server,
            port=c.port,
            key_name=c.key_name,
            key_secret=secret,
            key_algorithm=c.key_algorithm,
            timeout=c.timeout_seconds,
        )

    def __repr__(self) -> str:
        return f"Rfc2136Dns(zone={self._zone!r}, server={self.server!r}, port={self.port}, key_name={self.key_name!r})"

    @property
    def zone(self) -> str:
        return self._zone

    def record_settings(self, *, ttl: int, proxied: bool) -> tuple[int, bool | None]:
        return ttl, None  # no proxy: dns.proxied does not apply

    def describe(self) -> str:
        return f"rfc2136 zone {self._zone} on {self.server}:{self.port}"

    def _keyring(self) -> Any:
        if not self.key_name:
            return None
        import dns.tsigkeyring

        try:
            return dns.tsigkeyring.from_text({self.key_name: (self.key_algorithm, self._key_secret or "")})
        except Exception as e:  # a malformed base64 secret; the value is never quoted
            raise DnsError(
                f"the TSIG secret for key {self.key_name!r} is not valid base64", hint=KEY_HINT
            ) from e

    def list_records(self, *, name: str) -> list[DnsRecord]:
        import dns.message
        import dns.query
        import dns.rcode
        import dns.rdatatype

        records = []
        for rtype in _MANAGED_TYPES:
            query = dns.message.make_query(name + ".", rtype)
            try:
                answer = dns.query.tcp(query, self.server, port=self.port, timeout=self.timeout)
            except Exception as e:
                raise self._wrap(e, name, "querying") from e
            if answer.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                raise DnsError(
                    f"querying DNS record {name} on {self.describe()}: {dns.rcode.to_text(answer.rcode())}",
                    hint="check that the server is authoritative for the zone",
                )
            for rrset in answer.answer:
                if rrset.name.to_text(
                    omit_final_dot=True
                ).lower() != name or rrset.rdtype != dns.rdatatype.from_text(rtype):
                    continue
                values = tuple(sorted(_value(rtype, rd) for rd in rrset))
                records.append(DnsRecord(name=name, type=rtype, values=values, ttl=rrset.ttl))
        return records

    def list_zone_records(self, *, type: str) -> list[DnsRecord]:
        """By zone transfer (AXFR, signed with the TSIG key): the server must allow it to that key."""
        import dns.query
        import dns.rdatatype
        import dns.zone

        try:
            zone = dns.zone.from_xfr(
                dns.query.xfr(
                    self.server,
                    self._zone + ".",
                    port=self.port,
                    timeout=self.timeout,
                    keyring=self._keyring(),
                    relativize=False,
                ),
                relativize=False,
            )
        except Exception as e:
            raise self._wrap(e, self._zone, "transferring the zone of") from e
        records = []
        for name, rdataset in zone.iterate_rdatasets(dns.rdatatype.from_text(type)):
            values = tuple(sorted(_value(type, rd) for rd in rdataset))
            fqdn = name.to_text(omit_final_dot=True).lower()
            records.append(DnsRecord(name=fqdn, type=type, values=values, ttl=rdataset.ttl))
        return records

    def upsert(self, *, record: DnsRecord) -> None:
        update = self._update()
        relative = self._relative(record.name)
        update.delete(relative, record.type)
        values = [_quote(v) if record.type == "TXT" else _absolute(record.type, v) for v in record.values]
        update.add(relative, record.ttl, record.type, *values)
        self._send(update, record.name, "writing")

    def delete(self, *, name: str, type: str) -> None:
        update = self._update()
        update.delete(self._relative(name), type)
        self._send(update, name, "deleting")

    def _update(self) -> Any:
        import dns.name
        import dns.update

        keyring = self._keyring()
        if keyring is None:
            return dns.update.UpdateMessage(self._zone + ".")
        return dns.update.UpdateMessage(
            self._zone + ".",
            keyring=keyring,
            keyname=dns.name.from_text(self.key_name or ""),
            keyalgorithm=self.key_algorithm,
        )

    def _relative(self, name: str) -> str:
        if name != self._zone and not name.endswith("." + self._zone):
            raise DnsError(
                f"DNS record {name} is not in zone {self._zone}", hint="fix dns.zone or the record template"
            )
        return name[: -len(self._zone) - 1] if name != self._zone else "@"

    def _send(self, update: Any, name: str, doing: str) -> None:
        import dns.query
        import dns.rcode

        try:
            response = dns.query.tcp(update, self.server, port=self.port, timeout=self.timeout)
        except Exception as e:
            raise self._wrap(e, name, doing) from e
        rcode = response.rcode()
        if rcode != dns.rcode.NOERROR:
            text = dns.rcode.to_text(rcode)
            hint = (
                KEY_HINT
                if rcode in (dns.rcode.NOTAUTH, dns.rcode.REFUSED)
                else "check the zone and the server's update policy"
            )
            raise DnsError(
                f"{doing} DNS record {name} on {self.describe()}: server answered {text}", hint=hint
            )

    def _wrap(self, e: Exception, name: str, doing: str) -> DnsError:
        import dns.exception
        import dns.tsig

        where = f"{doing} DNS record {name} on {self.describe()}"
        if isinstance(e, dns.tsig.PeerError | dns.tsig.BadSignature | dns.tsig.BadTime):
            return DnsError(f"{where}: the server rejected the TSIG key ({type(e).__name__})", hint=KEY_HINT)
        if isinstance(e, dns.exception.Timeout | TimeoutError):
            return RetryableDnsError(
                f"{where}: the server did not answer within {self.timeout:g} s", hint="try again shortly"
            )
        if isinstance(e, OSError):
            return RetryableDnsError(f"{where}: {e.strerror or e}", hint="check dns.rfc2136.server and port")
        return DnsError(f"{where}: {type(e).__name__}: {str(e)[:200]}", hint="run with --debug for details")


def _value(rtype: str, rdata: Any) -> str:
    if rtype == "TXT":
        return b"".join(rdata.strings).decode("utf-8", "replace")
    return str(rdata.to_text()).rstrip(".").lower() if rtype == "CNAME" else str(rdata.to_text())


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _absolute(rtype: str, value: str) -> str:
    return value.rstrip(".") + "." if rtype == "CNAME" else value
