"""Step: the configured migration command, before the release upgrade.

Runs as a Kubernetes Job with the image the chart gets this run and the
environment's Secret (default), or locally with the connection variables. A
failure raises MigrationError: the deploy stops and the previous release keeps
serving. A commit already migrated is not migrated again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deploytag.capabilities.base import Capability, StepResult
from deploytag.capabilities.context import RunContext, annotation
from deploytag.capabilities.database import enabled, run_local
from deploytag.capabilities.outputs import DatabaseConnection, ImageValues
from deploytag.core.config import LoadedConfig
from deploytag.core.errors import ConfigError, MigrationError, scrub
from deploytag.core.naming import NamePlan
from deploytag.ports.cluster import MANAGED_BY_LABEL, MANAGED_BY_VALUE, JobSpec

MIGRATED = annotation("migrated-commit")


class MigrateStep(Capability):
    """The configured migration command, before the release: new code meets the migrated schema."""

    name = "migrate"
    needs = (DatabaseConnection, ImageValues)

    def applies(self, *, loaded: LoadedConfig, names: NamePlan) -> bool:
        return enabled(loaded, names) and bool(loaded.config.database.migrate)

    def preflight(self, *, ctx: RunContext) -> None:
        cfg = ctx.loaded.config.database
        if self.applies(loaded=ctx.loaded, names=ctx.names) and cfg.migrate_mode == "job":
            job_image(ctx, ctx.injected_values)  # an image to run the job in

    def ensure(self, *, ctx: RunContext) -> StepResult:
        cfg = ctx.loaded.config.database
        if not enabled(ctx.loaded, ctx.names) or not cfg.migrate:
            return StepResult("skipped", "no database.migrate configured")
        commit = ctx.names.commit
        recorded = {MIGRATED: commit}
        connection = ctx.outputs.get(DatabaseConnection)
        if ctx.previous.get(MIGRATED) == commit and not connection.created and not ctx.options.force:
            return StepResult("unchanged", f"already migrated at {commit[:8]}", recorded)
        if cfg.migrate_mode == "local":
            last = run_local(ctx, cfg.migrate, connection.values, "migration")
            return StepResult("changed", last or "migrated", recorded)
        values = {**ctx.injected_values, **ctx.outputs.get(ImageValues).values}
        result = run_job(ctx, cfg.migrate, job_image(ctx, values), connection.values)
        return StepResult(result.outcome, result.detail, recorded)


def job_image(ctx: RunContext, values: Mapping[str, Any]) -> str:
    """The app image the chart gets this run, as injected into its values (tag or digest)."""
    images = ctx.loaded.config.images
    wanted = ctx.loaded.config.database.migrate_image or (sorted(images)[0] if images else None)
    if wanted is None or wanted not in images:
        raise ConfigError(
            "database.migrate_mode job needs an image to run the migration in",
            hint="configure images: (and database.migrate_image), or set database.migrate_mode: local",
        )
    value = values.get(images[wanted].values_key) or {}
    repository, tag, digest = value.get("repository"), value.get("tag"), value.get("digest")
    if digest:
        return f"{repository}@{digest}"
    return f"{repository}:{tag}"


def run_job(ctx: RunContext, command: list[str], image: str, hidden: Mapping[str, str]) -> StepResult:
    names, cfg = ctx.names, ctx.loaded.config.database
    spec = JobSpec(
        namespace=names.namespace,
        name=f"{names.release}-migrate",
        image=image,
        command=command,
        env_secret=names.secret_name,
        labels={MANAGED_BY_LABEL: MANAGED_BY_VALUE, "deploytag.dev/job": "migrate"},
    )
    result = ctx.providers.cluster.run_job(
        spec=spec, timeout_seconds=cfg.migrate_timeout_seconds, log_lines=20
    )
    logs = scrub(result.logs.strip(), hidden.values())
    if not result.succeeded:
        raise MigrationError(
            f"migration job {names.namespace}/{spec.name} failed ({result.reason}); the release was not "
            f"changed. Last output:\n{logs or '(none)'}",
            hint="fix the migration and deploy again",
        )
    last = logs.splitlines()[-1] if logs else ""
    return StepResult("changed", f"job {spec.name}: {last}" if last else f"job {spec.name} completed")
