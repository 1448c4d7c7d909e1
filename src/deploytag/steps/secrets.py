"""Step 5: secret store -> one Opaque Secret in the namespace, its name injected into the values."""

from __future__ import annotations

from deploytag.ports.cluster import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from deploytag.ports.secrets import SecretBundle
from deploytag.steps.context import RunContext, StepResult, annotation, dumps
from deploytag.steps.database import SECRET_VERSION_KEY, secret_digest


def secret_ids(ctx: RunContext) -> list[str]:
    return list(ctx.loaded.config.secrets.ids)


class SecretsStep:
    name = "secrets"

    def run(self, ctx: RunContext) -> StepResult:
        ids = secret_ids(ctx)
        values_key = ctx.loaded.config.secrets.values_key
        extra = ctx.extra_secret_data
        if not ids and not extra:
            return StepResult("skipped", "no secrets.ids configured")
        bundle = ctx.providers.secret_store.fetch(ids=ids) if ids else SecretBundle(values={})
        ctx.secret_versions = dict(bundle.versions)
        if extra:
            # The database's connection values win over a store's stale copy of the same keys.
            bundle = SecretBundle(values={**bundle.values, **extra}, versions=bundle.versions)
            ctx.secret_versions[SECRET_VERSION_KEY] = secret_digest(extra)
        ctx.secret_keys = bundle.keys
        ctx.injected_values[values_key] = ctx.names.secret_name
        previous_versions = ctx.previous.get(annotation("secret-versions"))
        cluster = ctx.providers.cluster
        existing_keys = cluster.get_secret_keys(namespace=ctx.names.namespace, name=ctx.names.secret_name)
        ctx.record[annotation("secret-versions")] = dumps(ctx.secret_versions)
        if previous_versions == dumps(ctx.secret_versions) and existing_keys == bundle.keys:
            return StepResult("unchanged", f"{len(bundle.keys)} keys, versions unchanged")
        cluster.apply_secret(
            namespace=ctx.names.namespace,
            name=ctx.names.secret_name,
            data=bundle.values,
            labels={MANAGED_BY_LABEL: MANAGED_BY_VALUE},
            annotations={annotation("secret-versions"): dumps(ctx.secret_versions)},
        )
        return StepResult("changed", f"{ctx.names.secret_name}: {len(bundle.keys)} keys")
