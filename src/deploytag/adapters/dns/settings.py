"""Settings of the DNS providers, composed into ``dns.*`` by the config schema.

Each provider's section sits here beside its adapter module. ``DnsProviderSettings``
holds one field per provider; ``core.config.schema.DnsConfig`` inherits it, so a new
provider adds its model and its field here and nothing in core changes.

Only pydantic and ``core.settingsmodel`` are imported: the schema imports this module (the
one exception to the layers; see the import-linter contracts in pyproject.toml), so it
must not reach an adapter or an SDK.
"""

from __future__ import annotations

from pydantic import Field

from deploytag.core.settingsmodel import SettingsModel


class Rfc2136Config(SettingsModel):
    server: str = Field(default="127.0.0.1", description="primary name server taking dynamic updates")
    port: int = Field(default=53, ge=1, le=65535, description="its port")
    key_name: str | None = Field(default=None, description="TSIG key name; its secret is DNS_TSIG_SECRET")
    key_algorithm: str = Field(default="hmac-sha256", description="TSIG algorithm")
    timeout_seconds: float = Field(default=10, gt=0, description="seconds per query or update")


class Route53Config(SettingsModel):
    hosted_zone_id: str | None = Field(default=None, description="hosted zone id; default: looked up by zone")
    endpoint_url: str | None = Field(default=None, description="endpoint override (tests: moto_server)")
    region: str | None = Field(default=None, description="region; default from AWS config")


class CloudflareConfig(SettingsModel):
    base_url: str | None = Field(default=None, description="API base URL override (tests: a local double)")
    timeout_seconds: float = Field(default=30, gt=0, description="seconds per API call")


class PowerDnsConfig(SettingsModel):
    url: str = Field(default="http://127.0.0.1:8081", description="PowerDNS API URL; the key is PDNS_API_KEY")
    server_id: str = Field(default="localhost", description="PowerDNS server id")
    timeout_seconds: float = Field(default=10, gt=0, description="seconds per API call")


class DnsProviderSettings(SettingsModel):
    """One section per provider: ``dns.<provider>.*``."""

    rfc2136: Rfc2136Config = Field(default_factory=Rfc2136Config)
    route53: Route53Config = Field(default_factory=Route53Config)
    cloudflare: CloudflareConfig = Field(default_factory=CloudflareConfig)
    powerdns: PowerDnsConfig = Field(default_factory=PowerDnsConfig)
