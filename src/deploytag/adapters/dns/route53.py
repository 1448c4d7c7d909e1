"""DnsProvider on AWS Route53 with boto3 (credentials from the usual AWS chain).

The hosted zone is ``dns.route53.hosted_zone_id`` or looked up by the zone's
name. UPSERT makes every write idempotent; DELETE needs the record set exactly
as it is, so it is read first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

from deploytag.adapters.common.sdkcheck import require
from deploytag.core.errors import ConfigError, DnsError, RetryableDnsError, scrub
from deploytag.ports.dns import DnsRecord

if TYPE_CHECKING:
    from mypy_boto3_route53 import Route53Client

    from deploytag.core.config import DnsConfig

_RETRYABLE = frozenset({"Throttling", "ThrottlingException", "PriorRequestNotComplete", "ServiceUnavailable"})
_MANAGED_TYPES = ("A", "AAAA", "CNAME", "TXT")


class Route53Dns:
    name = "route53"
    credential_keys: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        zone: str,
        hosted_zone_id: str | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        self._zone = zone.rstrip(".").lower()
        self._zone_id = hosted_zone_id
        self.endpoint_url = endpoint_url
        self.region = region
        self._client: Route53Client | None = None

    @classmethod
    def from_config(cls, *, config: DnsConfig, credentials: Mapping[str, str]) -> Self:
        del credentials  # the AWS credential chain, not the secret store
        require("boto3", needed_for="the route53 DNS provider")
        if not config.zone:
            raise ConfigError("the route53 provider needs the zone name", hint="set dns.zone or pass --zone")
        r53 = config.route53
        return cls(
            zone=config.zone,
            hosted_zone_id=r53.hosted_zone_id or config.zone_id,
            endpoint_url=r53.endpoint_url,
            region=r53.region,
        )

    @property
    def zone(self) -> str:
        return self._zone

    def record_settings(self, *, ttl: int, proxied: bool) -> tuple[int, bool | None]:
        return ttl, None  # no proxy: dns.proxied does not apply

    def describe(self) -> str:
        return f"route53 zone {self._zone}" + (f" at {self.endpoint_url}" if self.endpoint_url else "")

    @property
    def client(self) -> Route53Client:
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(connect_timeout=10, read_timeout=30, retries={"mode": "standard"})
            self._client = boto3.client(
                "route53",
                endpoint_url=self.endpoint_url,
                region_name=self.region or "us-east-1",
                config=config,
            )
        return self._client

    def _hosted_zone_id(self, name: str) -> str:
        if self._zone_id is None:
            try:
                found = self.client.list_hosted_zones_by_name(DNSName=self._zone + ".", MaxItems="1")
            except Exception as e:
                raise self._wrap(e, name, "looking up the hosted zone for") from e
            zones = [z for z in found["HostedZones"] if z["Name"].rstrip(".").lower() == self._zone]
            if not zones:
                raise DnsError(
                    f"no Route53 hosted zone named {self._zone} (needed for {name})",
                    hint="create it, or fix dns.zone / dns.route53.hosted_zone_id",
                )
            self._zone_id = zones[0]["Id"].rsplit("/", 1)[-1]
        return self._zone_id

    def list_records(self, *, name: str) -> list[DnsRecord]:
        zone_id = self._hosted_zone_id(name)
        try:
            found = self.client.list_resource_record_sets(
                HostedZoneId=zone_id, StartRecordName=name + ".", MaxItems="10"
            )
        except Exception as e:
            raise self._wrap(e, name, "listing") from e
        records = []
        for rrset in found["ResourceRecordSets"]:
            if rrset["Name"].rstrip(".").lower() != name or rrset["Type"] not in _MANAGED_TYPES:
                continue
            records.append(_record(name, rrset))
        return records

    def list_zone_records(self, *, type: str) -> list[DnsRecord]:
        zone_id = self._hosted_zone_id(self.zone)
        records = []
        try:
            for page in self.client.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id):
                for rrset in page["ResourceRecordSets"]:
                    if rrset["Type"] == type:
                        records.append(_record(rrset["Name"].rstrip(".").lower(), rrset))
        except Exception as e:
            raise self._wrap(e, self.zone, "listing") from e
        return records

    def upsert(self, *, record: DnsRecord) -> None:
        self._change("UPSERT", record)

    def delete(self, *, name: str, type: str) -> None:
        for record in self.list_records(name=name):
            if record.type == type:
                self._change("DELETE", record)

    def _change(self, action: str, record: DnsRecord) -> None:
        values = [f'"{v}"' if record.type == "TXT" else v for v in record.values]
        rrset: Any = {
            "Name": record.name + ".",
            "Type": record.type,
            "TTL": record.ttl,
            "ResourceRecords": [{"Value": v} for v in values],
        }
        try:
            self.client.change_resource_record_sets(
                HostedZoneId=self._hosted_zone_id(record.name),
                ChangeBatch={"Changes": [{"Action": action, "ResourceRecordSet": rrset}]},  # type: ignore[typeddict-item]
            )
        except DnsError:
            raise
        except Exception as e:
            raise self._wrap(e, record.name, "writing" if action == "UPSERT" else "deleting") from e

    def _wrap(self, e: Exception, name: str, doing: str) -> DnsError:
        from botocore.exceptions import ClientError, ConnectionError, NoCredentialsError, ReadTimeoutError

        where = f"{doing} DNS record {name} in {self.describe()}"
        if isinstance(e, ReadTimeoutError):
            return RetryableDnsError(f"{where}: Route53 timed out", hint="try again shortly")
        if isinstance(e, ConnectionError):
            return RetryableDnsError(
                f"{where}: cannot reach Route53 ({scrub(str(e))[:200]})", hint="check the network"
            )
        if isinstance(e, NoCredentialsError):
            return DnsError(
                f"{where}: no AWS credentials", hint="set AWS_PROFILE or AWS access keys, or use a role"
            )
        if isinstance(e, ClientError):
            code = e.response.get("Error", {}).get("Code", "")
            message = scrub(e.response.get("Error", {}).get("Message", ""))[:300]
            cls = RetryableDnsError if code in _RETRYABLE else DnsError
            return cls(
                f"{where}: {code}: {message}", hint="check the record, the zone and the IAM permissions"
            )
        return DnsError(f"{where}: {scrub(str(e))[:300]}", hint="run with --debug for details")


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _record(name: str, rrset: Any) -> DnsRecord:
    values = [r["Value"] for r in rrset.get("ResourceRecords", [])]
    if rrset["Type"] == "TXT":
        values = [_unquote(v) for v in values]
    elif rrset["Type"] == "CNAME":
        values = [v.rstrip(".").lower() for v in values]
    return DnsRecord(name=name, type=rrset["Type"], values=tuple(sorted(values)), ttl=rrset.get("TTL", 0))
