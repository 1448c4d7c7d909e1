"""Settings of the DNS providers, composed into ``dns.*`` by the config schema.

Each provider's section sits here beside its adapter module. ``DnsProviderSettings``
extends the common options (``core.sections.DnsOptions``) with one field per provider;
``core.config.schema.DnsConfig`` is it, so a new provider adds its model and its field here
and nothing in core changes.

Only msgspec and core are imported: the schema imports this module (the one exception to the
layers; see the import-linter contracts in pyproject.toml), so it must not reach an adapter or
an SDK.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, field

from deploytag.core.sections import DnsOptions
from deploytag.core.settingsmodel import SettingsModel


class Rfc2136Config(SettingsModel):
    server: Annotated[str, Meta(description="primary name server taking dynamic updates")] = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535, description="its port")] = 53
    key_name: Annotated[str | None, Meta(description="TSIG key name; its secret is DNS_TSIG_SECRET")] = None
    key_algorithm: Annotated[str, Meta(description="TSIG algorithm")] = "hmac-sha256"
    timeout_seconds: Annotated[float, Meta(gt=0, description="seconds per query or update")] = 10.0


class Route53Config(SettingsModel):
    hosted_zone_id: Annotated[str | None, Meta(description="hosted zone id; default: looked up by zone")] = (
        None
    )
    endpoint_url: Annotated[str | None, Meta(description="endpoint override (tests: moto_server)")] = None
    region: Annotated[str | None, Meta(description="region; default from AWS config")] = None


class CloudflareConfig(SettingsModel):
    base_url: Annotated[str | None, Meta(description="API base URL override (tests: a local double)")] = None
    timeout_seconds: Annotated[float, Meta(gt=0, description="seconds per API call")] = 30.0


class PowerDnsConfig(SettingsModel):
    url: Annotated[str, Meta(description="PowerDNS API URL; the key is PDNS_API_KEY")] = (
        "http://127.0.0.1:8081"
    )
    server_id: Annotated[str, Meta(description="PowerDNS server id")] = "localhost"
    timeout_seconds: Annotated[float, Meta(gt=0, description="seconds per API call")] = 10.0


class DnsProviderSettings(DnsOptions):
    """The common options, then one section per provider: ``dns.<provider>.*``."""

    rfc2136: Rfc2136Config = field(default_factory=Rfc2136Config)
    route53: Route53Config = field(default_factory=Route53Config)
    cloudflare: CloudflareConfig = field(default_factory=CloudflareConfig)
    powerdns: PowerDnsConfig = field(default_factory=PowerDnsConfig)
