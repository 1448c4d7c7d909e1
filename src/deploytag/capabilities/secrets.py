"""Secrets: secret store -> one Opaque Secret in the namespace, its name injected into the values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deploytag.capabilities.base import Capability, PlanRequest, StepResult
from deploytag.capabilities.context import RunContext, annotation, dumps
from deploytag.capabilities.database import SECRET_VERSION_KEY, secret_digest
from deploytag.capabilities.outputs import DatabaseConnection, SecretsResult
from deploytag.capabilities.status import recorded_json
from deploytag.core.config import LoadedConfig
from deploytag.core.naming import NamePlan
from deploytag.ports.cluster import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from deploytag.ports.secrets import SecretBundle


def secret_ids(ctx: RunContext) -> list[str]:
    return list(ctx.loaded.config.secrets.ids)


class SecretsStep(Capability):
    """The environment's Secret, from the store and the database's connection; removed with the namespace."""

    name = "secrets"
    needs = (DatabaseConnection,)
    provides = (SecretsResult,)

    def applies(self, *, loaded: LoadedConfig, names: NamePlan) -> bool:
        return bool(loaded.config.secrets.ids)

    def plan(self, *, request: PlanRequest) -> Mapping[str, Any]:
        cfg = request.loaded.config.secrets
        return {
            "secret_provider": cfg.provider,
            "secret_ids": list(cfg.ids),
            "secret_name": request.names.secret_name if cfg.ids else None,
            "secret_keys": _secret_keys(request),
        }

    def preflight(self, *, ctx: RunContext) -> None:
        if ctx.loaded.config.secrets.ids:
            _ = ctx.providers.secret_store

    def status(self, *, annotations: Mapping[str, str]) -> Mapping[str, Any]:
        return {"secret_versions": recorded_json(annotations, "secret-versions")}

    def ensure(self, *, ctx: RunContext) -> StepResult:
        ids = secret_ids(ctx)
        values_key = ctx.loaded.config.secrets.values_key
        extra = ctx.outputs.get(DatabaseConnection).values
        if not ids and not extra:
            ctx.outputs.put(SecretsResult())
            return StepResult("skipped", "no secrets.ids configured")
        bundle = ctx.providers.secret_store.fetch(ids=ids) if ids else SecretBundle(values={})
        versions = dict(bundle.versions)
        if extra:
            # The database's connection values win over a store's stale copy of the same keys.
            bundle = SecretBundle(values={**bundle.values, **extra}, versions=bundle.versions)
            versions[SECRET_VERSION_KEY] = secret_digest(dict(extra))
        ctx.outputs.put(
            SecretsResult(
                versions=versions, keys=tuple(bundle.keys), injected={values_key: ctx.names.secret_name}
            )
        )
        previous_versions = ctx.previous.get(annotation("secret-versions"))
        cluster = ctx.providers.cluster
        existing_keys = cluster.get_secret_keys(namespace=ctx.names.namespace, name=ctx.names.secret_name)
        recorded = {annotation("secret-versions"): dumps(versions)}
        if previous_versions == dumps(versions) and existing_keys == bundle.keys:
            return StepResult("unchanged", f"{len(bundle.keys)} keys, versions unchanged", recorded)
        cluster.apply_secret(
            namespace=ctx.names.namespace,
            name=ctx.names.secret_name,
            data=bundle.values,
            labels={MANAGED_BY_LABEL: MANAGED_BY_VALUE},
            annotations={annotation("secret-versions"): dumps(versions)},
        )
        return StepResult("changed", f"{ctx.names.secret_name}: {len(bundle.keys)} keys", recorded)


def _secret_keys(request: PlanRequest) -> list[str] | None:
    """Key names only. A cloud store is read only when asked: plan needs no cloud."""
    cfg = request.loaded.config.secrets
    if not cfg.ids or (cfg.provider != "file" and not request.read_secrets):
        return None
    return request.providers.secret_store.describe_keys(ids=cfg.ids)
