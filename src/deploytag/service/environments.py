"""`deploytag list`: environments are namespaces labelled as ours; one label-selected call."""

from __future__ import annotations

import json
import logging
from typing import Any

import msgspec

from deploytag.capabilities.context import annotation
from deploytag.capabilities.namespace import APP_LABEL
from deploytag.core.config import LoadedConfig
from deploytag.core.config.schema import CostConfig
from deploytag.core.errors import DeployTagError
from deploytag.core.records import asdict
from deploytag.ports.cluster import ENVIRONMENT_SELECTOR, NamespaceInfo
from deploytag.ports.providers import Providers
from deploytag.service.costs import costs_by_namespace
from deploytag.service.expiry import expiry_of

log = logging.getLogger(__name__)


class EnvironmentRow(msgspec.Struct):
    namespace: str
    app: str
    branch: str
    kind: str
    environment: str
    commit: str
    outcome: str
    revision: str
    created_at: str
    updated_at: str
    urls: list[str] = msgspec.field(default_factory=list)
    phase: str = "Active"
    database: str = ""  # recorded on the namespace by the database step
    # When gc may remove this preview (last deploy + ttl_hours, or the end of a pin): RFC 3339,
    # "never" (permanent, pinned indefinitely, ttl_hours off) or "" (nothing recorded).
    expires_at: str = ""
    pinned_until: str = ""  # "", "forever" or RFC 3339 (`deploytag pin`)
    sleeping: bool = False  # scaled to zero by `deploytag sleep` (annotation deploytag.dev/sleeping)
    # Estimated from what its workloads request now (service.costs); None when not read.
    monthly_cost: float | None = None
    currency: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_environments(
    *, loaded: LoadedConfig | None, providers: Providers, all_apps: bool
) -> list[EnvironmentRow]:
    selector = ENVIRONMENT_SELECTOR
    if loaded is not None and not all_apps:
        selector += f",{APP_LABEL}={loaded.config.app}"
    ttl_hours = loaded.config.ttl_hours if loaded is not None else None
    namespaces = providers.cluster.list_namespaces(label_selector=selector)
    rows = [environment_row(ns, ttl_hours=ttl_hours) for ns in namespaces]
    cost = loaded.config.cost if loaded is not None else CostConfig()
    try:
        estimates = costs_by_namespace(providers.cluster, cost, (r.namespace for r in rows))
    except DeployTagError as e:  # e.g. RBAC allows listing namespaces but not workloads everywhere
        log.warning("no cost estimates: %s", e)
        estimates = {}
    for row in rows:
        if row.namespace in estimates:
            row.monthly_cost, row.currency = estimates[row.namespace].monthly, cost.currency
    return sorted(rows, key=lambda r: (r.app, r.kind != "permanent", r.branch))


def environment_row(ns: NamespaceInfo, *, ttl_hours: float | None = None) -> EnvironmentRow:
    a = ns.annotations
    expiry = expiry_of(ns, ttl_hours=ttl_hours)
    try:
        urls = json.loads(a.get(annotation("urls"), "[]"))
    except ValueError:
        urls = []
    return EnvironmentRow(
        namespace=ns.name,
        app=ns.labels.get(APP_LABEL, ""),
        branch=a.get(annotation("branch"), ""),
        kind=ns.labels.get("deploytag.dev/kind", ""),
        environment=ns.labels.get("deploytag.dev/environment", ""),
        commit=a.get(annotation("commit"), "")[:8],
        outcome=a.get(annotation("outcome"), ""),
        revision=a.get(annotation("revision"), ""),
        created_at=a.get(annotation("created-at"), ns.created_at),
        updated_at=a.get(annotation("updated-at"), ""),
        urls=urls if isinstance(urls, list) else [],
        phase=ns.phase,
        database=_database(a),
        expires_at=expiry.expires_text,
        pinned_until=expiry.pinned_until,
        sleeping=bool(a.get(annotation("sleeping"))),
    )


def _database(annotations: Any) -> str:
    try:
        record = json.loads(annotations.get(annotation("database"), "{}"))
    except ValueError:
        return ""
    if not isinstance(record, dict) or not record.get("database"):
        return ""
    return f"{record.get('engine', '')}:{record['database']}"
