"""`deploytag dns`: the branch's names, ours only (destroy's part is capabilities/dns.py DnsStep.remove).

The records are the plan's (templates + zone); with only a zone id (``dns.zone_id``, as
in the platform guide) the zone's name is asked of the provider first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from msgspec import structs

from deploytag.capabilities.dns import delete_records, ensure_records
from deploytag.capabilities.expose import discover_address
from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig
from deploytag.core.dnsowner import Owner
from deploytag.core.errors import ConfigError, DeployTagError
from deploytag.core.naming import NamePlan
from deploytag.ports.dns import DnsProvider
from deploytag.ports.progress import ProgressListener
from deploytag.ports.providers import Providers
from deploytag.service.reports import report_dict
from deploytag.service.resolve import target_for

log = logging.getLogger(__name__)

DNS_SCHEMA = "deploytag.dns/v1"


@dataclass
class DnsReport:
    schema: str
    outcome: str  # changed, unchanged, deleted, failed, skipped, dry-run
    branch: str
    provider: str | None = None
    zone: str | None = None
    targets: list[str] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    exception: DeployTagError | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return report_dict(self)


def _provider(providers: Providers) -> DnsProvider:
    provider = providers.dns
    if provider is None:
        raise ConfigError(
            "no DNS provider configured",
            hint="set dns.provider, or pass --provider / --cloudflare-zone-id",
        )
    return provider


def names_with_zone(
    loaded: LoadedConfig, providers: Providers, ref: BranchRef
) -> tuple[LoadedConfig, NamePlan]:
    """The plan's names; the zone's name asked of the provider when only its id is configured."""
    if loaded.config.dns.zone is None and loaded.config.dns.provider is not None:
        zone = _provider(providers).zone
        cfg = loaded.config
        loaded = structs.replace(loaded, config=structs.replace(cfg, dns=structs.replace(cfg.dns, zone=zone)))
    target = target_for(ref, loaded)
    if target.names is None:
        raise ConfigError(
            f"branch {ref.branch!r} matches no deploy rule", hint="check branches: in deploytag.yaml"
        )
    if not target.names.dns_records:
        raise ConfigError("no DNS records to manage", hint="pass --record TEMPLATE or set dns.records")
    return loaded, target.names


def sync_dns(
    *,
    loaded: LoadedConfig,
    providers: Providers,
    ref: BranchRef,
    progress: ProgressListener,
    delete: bool = False,
    dry_run: bool = False,
) -> DnsReport:
    report = DnsReport(schema=DNS_SCHEMA, outcome="skipped", branch=ref.branch)
    try:
        provider = _provider(providers)
        loaded, names = names_with_zone(loaded, providers, ref)
        report.provider, report.zone = provider.name, provider.zone
        fqdns = [r.fqdn for r in names.dns_records if r.fqdn]
        owner = Owner(app=names.app, branch=names.branch)
        if delete:
            changes = delete_records(provider, names=fqdns, owner=owner, dry_run=dry_run)
        else:
            cfg = loaded.config.dns
            report.targets = discover_address(
                cluster=providers.cluster,
                clock=providers.clock,
                target=cfg.target,
                namespace=names.namespace,
                progress=progress,
            )
            ttl, proxied = provider.record_settings(ttl=cfg.ttl, proxied=cfg.proxied)
            changes = ensure_records(
                provider,
                names=fqdns,
                targets=report.targets,
                owner=owner,
                ttl=ttl,
                proxied=proxied,
                dry_run=dry_run,
            )
        report.records = [c.to_dict() for c in changes]
        acted = [c for c in changes if c.action in ("created", "updated", "deleted")]
        report.outcome = ("deleted" if delete else "changed") if acted else "unchanged"
        if any(c.action.startswith("would-") for c in changes):
            report.outcome = "dry-run"
    except DeployTagError as e:
        report.outcome, report.error, report.exception = "failed", str(e), e
    return report
