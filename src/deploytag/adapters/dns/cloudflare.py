"""DnsProvider on Cloudflare's v4 API through the official ``cloudflare`` SDK.

The API token comes from ``CLOUDFLARE_API_TOKEN`` in the secret store (the
secret named by ``--cloud-aws-secret-id``) or the environment, never argv.
Cloudflare keeps one record per value; a record set here is all of them at one
name and type. ``base_url`` points the SDK at a local double in tests.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Self

from deploytag.adapters.common.sdkcheck import require
from deploytag.core.errors import ConfigError, DnsError, RetryableDnsError, scrub
from deploytag.ports.dns import DnsRecord

if TYPE_CHECKING:
    from cloudflare import Cloudflare

    from deploytag.core.config import DnsConfig

log = logging.getLogger(__name__)

TOKEN_KEY = "CLOUDFLARE_API_TOKEN"  # noqa: S105 - the key's name, not a token
TOKEN_HINT = (
    f"put a valid API token with Zone.DNS edit permission under {TOKEN_KEY} in the secret named by "
    f"--cloud-aws-secret-id, or in the {TOKEN_KEY} environment variable"
)
_MANAGED_TYPES = ("A", "AAAA", "CNAME", "TXT")


class CloudflareDns:
    name = "cloudflare"
    credential_keys = (TOKEN_KEY,)

    def __init__(
        self, *, zone: str, zone_id: str, token: str, base_url: str | None = None, timeout: float = 30
    ) -> None:
        self._zone = zone.rstrip(".").lower()
        self.zone_id = zone_id
        self.base_url = base_url
        self._token = token
        self._timeout = timeout
        self._client: Cloudflare | None = None

    @classmethod
    def from_config(cls, *, config: DnsConfig, credentials: Mapping[str, str]) -> Self:
        require("cloudflare", needed_for="the cloudflare DNS provider")
        if not config.zone_id:
            raise ConfigError(
                "the Cloudflare provider needs the zone id",
                hint="pass --cloudflare-zone-id or set dns.zone_id",
            )
        token = credentials.get(TOKEN_KEY)
        if not token:
            raise ConfigError(f"no Cloudflare API token found ({TOKEN_KEY})", hint=TOKEN_HINT)
        return cls(
            zone=config.zone or "",
            zone_id=config.zone_id,
            token=token,
            base_url=config.cloudflare.base_url,
            timeout=config.cloudflare.timeout_seconds,
        )

    @property
    def zone(self) -> str:
        """The zone's name; looked up by id when only the id was given (as in the platform guide)."""
        if not self._zone:
            try:
                self._zone = str(self.client.zones.get(zone_id=self.zone_id).name).rstrip(".").lower()  # type: ignore[union-attr]
            except Exception as e:
                raise self._wrap(e, f"(zone {self.zone_id})", "looking up the zone of") from e
        return self._zone

    def __repr__(self) -> str:
        return f"CloudflareDns(zone={self._zone!r}, zone_id={self.zone_id!r}, base_url={self.base_url!r})"

    def record_settings(self, *, ttl: int, proxied: bool) -> tuple[int, bool | None]:
        # Cloudflare keeps proxied records at TTL 1 ("automatic"); asking for another would
        # make every run see a change.
        return (1 if proxied else ttl), proxied

    def describe(self) -> str:
        return f"cloudflare zone {self.zone_id}" + (f" at {self.base_url}" if self.base_url else "")

    @property
    def client(self) -> Cloudflare:
        if self._client is None:
            from cloudflare import Cloudflare

            # The runner owns retries; the SDK's own would multiply them.
            self._client = Cloudflare(
                api_token=self._token, base_url=self.base_url, timeout=self._timeout, max_retries=0
            )
        return self._client

    def _raw(self, name: str) -> list[Any]:
        records = self.client.dns.records
        try:
            return list(records.list(zone_id=self.zone_id, name={"exact": name}, per_page=100))
        except Exception as e:
            raise self._wrap(e, name, "listing") from e

    def list_records(self, *, name: str) -> list[DnsRecord]:
        return _grouped(
            r for r in self._raw(name) if r.type in _MANAGED_TYPES and str(r.name).rstrip(".").lower() == name
        )

    def list_zone_records(self, *, type: str) -> list[DnsRecord]:
        try:
            # The SDK's iterator follows every page.
            found = list(self.client.dns.records.list(zone_id=self.zone_id, type=type, per_page=100))  # type: ignore[arg-type]
        except Exception as e:
            raise self._wrap(e, self.zone, "listing") from e
        return _grouped(r for r in found if r.type == type)

    def upsert(self, *, record: DnsRecord) -> None:
        api: Any = self.client.dns.records  # the SDK's per-type overloads defeat a generic call
        existing = [r for r in self._raw(record.name) if r.type == record.type]
        body: dict[str, Any] = {"zone_id": self.zone_id, "name": record.name, "type": record.type}
        body["ttl"] = record.ttl
        if record.type != "TXT":
            body["proxied"] = bool(record.proxied)
        try:
            for i, value in enumerate(record.values):
                content = f'"{value}"' if record.type == "TXT" else value
                if i < len(existing):
                    api.update(existing[i].id, content=content, **body)
                else:
                    api.create(content=content, **body)
            for extra in existing[len(record.values) :]:
                api.delete(extra.id, zone_id=self.zone_id)
        except Exception as e:
            raise self._wrap(e, record.name, "writing") from e

    def delete(self, *, name: str, type: str) -> None:
        try:
            for r in self._raw(name):
                if r.type == type:
                    self.client.dns.records.delete(r.id, zone_id=self.zone_id)
        except DnsError:
            raise
        except Exception as e:
            raise self._wrap(e, name, "deleting") from e

    def _wrap(self, e: Exception, name: str, doing: str) -> DnsError:
        import cloudflare

        where = f"{doing} DNS record {name} in {self.describe()}"
        body = getattr(e, "body", None)
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            detail = "; ".join(str(err.get("message", err)) for err in errors if isinstance(err, dict))
            detail = f"{getattr(e, 'status_code', '')} {detail}".strip()
        else:
            detail = str(e)
        detail = scrub(detail, [self._token])[:300]
        if isinstance(e, cloudflare.AuthenticationError | cloudflare.PermissionDeniedError):
            return DnsError(f"{where}: Cloudflare refused the API token ({detail})", hint=TOKEN_HINT)
        if isinstance(e, cloudflare.NotFoundError):
            return DnsError(f"{where}: not found ({detail})", hint="check --cloudflare-zone-id / dns.zone_id")
        if isinstance(e, cloudflare.APITimeoutError):
            return RetryableDnsError(f"{where}: Cloudflare timed out", hint="try again shortly")
        if isinstance(e, cloudflare.APIConnectionError):
            return RetryableDnsError(f"{where}: cannot reach Cloudflare ({detail})", hint="check the network")
        if isinstance(e, cloudflare.RateLimitError | cloudflare.InternalServerError):
            return RetryableDnsError(f"{where}: {detail}", hint="try again shortly")
        return DnsError(f"{where}: {detail}", hint="check the record and the zone")


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _grouped(found: Iterable[Any]) -> list[DnsRecord]:
    """Cloudflare keeps one record per value; DeployTag sees record sets (name + type)."""
    grouped: dict[tuple[str, str], list[Any]] = {}
    for r in found:
        grouped.setdefault((str(r.name).rstrip(".").lower(), r.type), []).append(r)
    return [
        DnsRecord(
            name=name,
            type=rtype,
            values=tuple(sorted(_unquote(str(r.content)) if rtype == "TXT" else str(r.content) for r in rs)),
            ttl=int(rs[0].ttl),
            proxied=None if rtype == "TXT" else bool(rs[0].proxied),
        )
        for (name, rtype), rs in grouped.items()
    ]
