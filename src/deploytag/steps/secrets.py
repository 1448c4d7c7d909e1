"""Step 5: secret store -> one Opaque Secret in the namespace, its name injected into the values."""

from __future__ import annotations

from deploytag.ports.cluster import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from deploytag.steps.context import RunContext, StepResult, annotation, dumps


def secret_ids(ctx: RunContext) -> list[str]:
    return list(ctx.loaded.config.secrets.ids)


class SecretsStep:
    name = "secrets"

    def run(self, ctx: RunContext) -> StepResult:
        ids = secret_ids(ctx)
        values_key = ctx.loaded.config.secrets.values_key
        if not ids:
            return StepResult("skipped", "no secrets.ids configured")
        bundle = ctx.providers.secret_store.fetch(ids=ids)
        ctx.secret_versions = dict(bundle.versions)
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
