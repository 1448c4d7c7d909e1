"""The dns step: the environment's names point at its load balancer, and say they are ours.

Every name is checked before anything is written (in the zone, not someone
else's), so a bad name leaves every record as it was. Ownership is a TXT record
beside each name (core/dnsowner.py); the TXT is written before the address and
deleted after it, so a run killed in between leaves a record DeployTag still
recognises as its own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from deploytag.capabilities.base import Capability, LeftBehind, PlanRequest, Removed, StepResult, Teardown
from deploytag.capabilities.context import RunContext, annotation, dumps
from deploytag.capabilities.outputs import DnsTargets, DnsUrls
from deploytag.capabilities.preflight import checked
from deploytag.capabilities.status import recorded_json
from deploytag.core.config import LoadedConfig
from deploytag.core.dnsowner import Owner, owner_name, parse_owner
from deploytag.core.errors import DnsError
from deploytag.core.naming import NamePlan
from deploytag.core.records import asdict
from deploytag.ports.dns import ADDRESS_TYPES, DnsProvider, DnsRecord, address_records
from deploytag.ports.providers import Providers

log = logging.getLogger(__name__)


class RecordChange(msgspec.Struct, frozen=True):
    name: str
    type: str  # CNAME, A, A+AAAA, ...
    values: tuple[str, ...]
    action: str  # created, updated, unchanged, deleted, absent, not-ours

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _owner_of(provider: DnsProvider, fqdn: str) -> tuple[Owner | None, DnsRecord | None]:
    for record in provider.list_records(name=owner_name(fqdn)):
        if record.type == "TXT":
            for value in record.values:
                owner = parse_owner(value)
                if owner is not None:
                    return owner, record
            return None, record
    return None, None


def check_in_zone(provider: DnsProvider, fqdn: str) -> None:
    zone = provider.zone
    if fqdn != zone and not fqdn.endswith("." + zone):
        raise DnsError(
            f"DNS record {fqdn} is not in zone {zone} ({provider.describe()})",
            hint="fix dns.zone / --zone, or the zone id",
        )


def ensure_records(
    provider: DnsProvider,
    *,
    names: Sequence[str],
    targets: Sequence[str],
    owner: Owner,
    ttl: int,
    proxied: bool | None,
    dry_run: bool = False,
) -> list[RecordChange]:
    """Point every name at ``targets``; DnsError naming the first record that is not ours, before any write.

    ``dry_run`` does every check and reports ``would-create``/``would-update`` without writing.
    """
    plans = []
    for fqdn in names:
        check_in_zone(provider, fqdn)
        existing = [r for r in provider.list_records(name=fqdn) if r.type in ADDRESS_TYPES]
        found, txt = _owner_of(provider, fqdn)
        if found is None and txt is not None:
            raise DnsError(
                f"DNS record {owner_name(fqdn)} (the ownership record for {fqdn}) exists and was not "
                "created by DeployTag; left unchanged",
                hint="delete it by hand if it is really unused, or pick another record template",
            )
        if found is not None and found != owner:
            raise DnsError(
                f"DNS record {fqdn} belongs to app {found.app!r} branch {found.branch!r}; left unchanged",
                hint="pick another record template, or destroy that environment first",
            )
        if found is None and existing:
            raise DnsError(
                f"DNS record {fqdn} exists and was not created by DeployTag; left unchanged",
                hint="delete it by hand if it is really unused, or pick another record template",
            )
        plans.append((fqdn, found is not None, existing))
    changes = []
    for fqdn, owned, existing in plans:
        wanted = address_records(fqdn, targets, ttl=ttl, proxied=proxied)
        in_place = all(any(w.same_as(e) for e in existing) for w in wanted) and len(existing) == len(wanted)
        if owned and in_place:
            changes.append(_change(fqdn, wanted, "unchanged"))
            continue
        if dry_run:
            changes.append(_change(fqdn, wanted, "would-update" if existing else "would-create"))
            continue
        if not owned:
            provider.upsert(
                record=DnsRecord(name=owner_name(fqdn), type="TXT", values=(owner.text(),), ttl=ttl)
            )
        wanted_types = {w.type for w in wanted}
        for stale in existing:
            if stale.type not in wanted_types:  # CNAME <-> A: a CNAME may not share its name
                provider.delete(name=fqdn, type=stale.type)
        for record in wanted:
            provider.upsert(record=record)
        changes.append(_change(fqdn, wanted, "updated" if existing else "created"))
    return changes


def delete_records(
    provider: DnsProvider, *, names: Sequence[str], owner: Owner, dry_run: bool = False
) -> list[RecordChange]:
    """Delete the names that are ``owner``'s; others are reported ``not-ours`` and left alone."""
    changes = []
    for fqdn in names:
        existing = [r for r in provider.list_records(name=fqdn) if r.type in ADDRESS_TYPES]
        found, txt = _owner_of(provider, fqdn)
        if found != owner:
            action = "absent" if txt is None and not existing else "not-ours"
            if action == "not-ours":
                log.warning("DNS record %s is not this environment's; left in place", fqdn)
            changes.append(RecordChange(fqdn, "+".join(r.type for r in existing), (), action))
            continue
        values = tuple(v for r in existing for v in r.values)
        if dry_run:
            changes.append(RecordChange(fqdn, "+".join(r.type for r in existing), values, "would-delete"))
            continue
        for record in existing:
            provider.delete(name=fqdn, type=record.type)
        provider.delete(name=owner_name(fqdn), type="TXT")
        changes.append(RecordChange(fqdn, "+".join(r.type for r in existing), values, "deleted"))
    return changes


def _change(fqdn: str, wanted: list[DnsRecord], action: str) -> RecordChange:
    return RecordChange(
        fqdn, "+".join(w.type for w in wanted), tuple(v for w in wanted for v in w.values), action
    )


def urls(names: Sequence[str], *, tls: bool) -> list[str]:
    return [f"{'https' if tls else 'http'}://{n}/" for n in names]


class DnsStep(Capability):
    """The environment's DNS names: planned, checked, pointed at the load balancer, deleted (ours only)."""

    name = "dns"
    needs = (DnsTargets,)
    provides = (DnsUrls,)

    def applies(self, *, loaded: LoadedConfig, names: NamePlan) -> bool:
        return loaded.config.dns.provider is not None and any(r.fqdn for r in names.dns_records)

    def plan(self, *, request: PlanRequest) -> Mapping[str, Any]:
        records = request.names.dns_records
        return {
            "dns_records": [
                {
                    "template": r.template,
                    "name": r.label,
                    "fqdn": r.fqdn,
                    "owner": owner_name(r.fqdn) if r.fqdn else None,
                }
                for r in records
            ]
        }

    def preflight(self, *, ctx: RunContext) -> None:
        dns = ctx.providers.dns
        if dns is not None:
            # Reads only: a wrong token or zone fails here, before the namespace exists.
            for record in ctx.names.dns_records:
                if record.fqdn:
                    check_in_zone(dns, record.fqdn)
                    dns.list_records(name=record.fqdn)

    def status(self, *, annotations: Mapping[str, str]) -> Mapping[str, Any]:
        return {"dns": recorded_json(annotations, "dns")}

    def ensure(self, *, ctx: RunContext) -> StepResult:
        cfg = ctx.loaded.config.dns
        provider = ctx.providers.dns
        names = [r.fqdn for r in ctx.names.dns_records if r.fqdn]
        if provider is None or not names:
            ctx.outputs.put(DnsUrls())
            return StepResult("skipped", "no dns.provider / dns.records")
        ttl, proxied = provider.record_settings(ttl=cfg.ttl, proxied=cfg.proxied)
        changes = ensure_records(
            provider,
            names=names,
            targets=ctx.outputs.get(DnsTargets).addresses,
            owner=Owner(app=ctx.names.app, branch=ctx.names.branch),
            ttl=ttl,
            proxied=proxied,
        )
        ctx.outputs.put(DnsUrls(tuple(urls(names, tls=bool(cfg.tls.cluster_issuer or cfg.tls.secret_name)))))
        recorded = {
            annotation("dns"): dumps({"provider": provider.name, "zone": provider.zone, "names": names})
        }
        changed = [c for c in changes if c.action != "unchanged"]
        detail = ", ".join(f"{c.name} {c.action}" for c in changed) or f"{len(changes)} records in place"
        return StepResult("changed" if changed else "unchanged", detail, recorded)

    def check_removal(self, *, teardown: Teardown) -> None:
        if "dns" not in teardown.skip and teardown.loaded.config.dns.provider is not None:
            checked(
                "the DNS provider",
                "--skip dns to leave its records behind",
                lambda: _read_dns(teardown.providers, teardown.names),
            )

    def left_behind(self, *, teardown: Teardown) -> list[LeftBehind]:
        cfg = teardown.loaded.config.dns
        if "dns" not in teardown.skip or cfg.provider is None:
            return []
        where = f"{cfg.provider} zone {cfg.zone or cfg.zone_id or 'its zone'}"
        fqdns = destroy_names(teardown.names, _recorded(teardown))
        return [LeftBehind("dns record", fqdn, where, "skipped") for fqdn in fqdns]

    def removes(self, *, teardown: Teardown) -> bool:
        # DNS goes first in destroy: names stop pointing at a load balancer that is about to go.
        return "dns" not in teardown.skip and teardown.providers.dns is not None

    def remove(self, *, teardown: Teardown) -> StepResult:
        changes = destroy_records(
            providers=teardown.providers, names=teardown.names, recorded=_recorded(teardown)
        )
        for c in changes:
            what = "dns record" if c.action != "not-ours" else "dns record (not ours, kept)"
            teardown.removed.append(Removed(what, c.name, c.action == "deleted", True))
        deleted = [c.name for c in changes if c.action == "deleted"]
        return StepResult(
            "changed" if deleted else "unchanged",
            f"deleted {', '.join(deleted)}" if deleted else "no records of ours",
        )


def _recorded(teardown: Teardown) -> str | None:
    existing = teardown.existing
    return existing.annotations.get(annotation("dns")) if existing is not None else None


def _read_dns(providers: Providers, names: NamePlan) -> None:
    provider = providers.dns  # built here: its token comes from the environment or the secret store
    if provider is None:
        return
    _ = provider.zone  # with only a zone id, a lookup that proves the token
    fqdns = [r.fqdn for r in names.dns_records if r.fqdn]
    if fqdns:
        provider.list_records(name=fqdns[0])


def destroy_records(*, providers: Providers, names: NamePlan, recorded: str | None) -> list[RecordChange]:
    """Delete the environment's records: the plan's names and any recorded on the namespace, ours only."""
    provider = providers.dns
    if provider is None:
        return []
    fqdns = destroy_names(names, recorded)
    changes = delete_records(provider, names=fqdns, owner=Owner(app=names.app, branch=names.branch))
    for change in changes:
        if change.action == "deleted" and any(
            r.type in ADDRESS_TYPES for r in provider.list_records(name=change.name)
        ):
            raise DnsError(
                f"DNS record {change.name} is still present after deleting it", hint="run destroy again"
            )
    return changes


def destroy_names(names: NamePlan, recorded: str | None) -> list[str]:
    """The plan's record names and those recorded on the namespace (a template may have changed since)."""
    fqdns = [r.fqdn for r in names.dns_records if r.fqdn]
    if recorded:
        try:
            fqdns += [n for n in json.loads(recorded).get("names", []) if n not in fqdns]
        except (ValueError, AttributeError):
            log.warning("ignoring an unreadable %s annotation", annotation("dns"))
    return fqdns
