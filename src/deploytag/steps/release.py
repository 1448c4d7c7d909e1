"""Step 8: the app's Helm chart, `helm upgrade --install`, skipped when nothing changed."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import deploytag
from deploytag.core.errors import ReleaseError
from deploytag.steps.chartvalues import (
    chart_dir,
    digest_chart,
    file_digest,
    fingerprint,
    helm_values,
)
from deploytag.steps.context import RunContext, StepResult, annotation

log = logging.getLogger(__name__)


def compute_fingerprint(ctx: RunContext, *, chart: Path, files: list[Path], values: dict[str, Any]) -> str:
    return fingerprint(
        {
            "deploytag": deploytag.__version__,
            "commit": ctx.names.commit,
            "chart": digest_chart(chart),
            "values_files": [[str(p), file_digest(p)] for p in files],
            "values": values,
            "secrets": ctx.secret_versions,
            "release": ctx.names.release,
            "namespace": ctx.names.namespace,
        }
    )


def atomic_requested(ctx: RunContext) -> bool:
    return ctx.options.atomic or ctx.loaded.config.chart.atomic


class ReleaseStep:
    name = "release"

    def run(self, ctx: RunContext) -> StepResult:
        helm = ctx.providers.helm
        target = ctx.providers.kube_target
        names = ctx.names
        chart = chart_dir(ctx.loaded)
        files, values = helm_values(
            ctx.loaded, ctx.match, injected=ctx.injected_values, set_values=ctx.options.set_values
        )
        ctx.fingerprint = compute_fingerprint(ctx, chart=chart, files=files, values=values)
        ctx.record[annotation("fingerprint")] = ctx.fingerprint
        status = helm.status(release=names.release, namespace=names.namespace, target=target)
        if status is not None and status.status == "deployed":
            ctx.previous_revision = status.revision
        elif status is not None:
            ctx.previous_revision = _last_deployed(ctx)
        previous = ctx.previous
        if (
            not ctx.options.force
            and status is not None
            and status.status == "deployed"
            and previous.get(annotation("fingerprint")) == ctx.fingerprint
            and previous.get(annotation("outcome")) == "succeeded"
            and previous.get(annotation("revision")) == str(status.revision)
        ):
            ctx.unchanged = True
            ctx.release = status
            return StepResult("unchanged", f"revision {status.revision} is current")
        helm.dependency_build(chart=chart)
        try:
            info = helm.upgrade_install(
                chart=chart,
                release=names.release,
                namespace=names.namespace,
                values_files=files,
                values=values,
                wait=False,
                timeout_seconds=ctx.timeout_seconds,
                atomic=False,
                target=target,
            )
        except ReleaseError:
            if atomic_requested(ctx):
                rollback(ctx)
            raise
        ctx.release = info
        return StepResult("changed", f"revision {info.revision} ({info.status})")


def _last_deployed(ctx: RunContext) -> int | None:
    history = ctx.providers.helm.history(
        release=ctx.names.release, namespace=ctx.names.namespace, target=ctx.providers.kube_target
    )
    deployed = [r.revision for r in history if r.status in ("deployed", "superseded")]
    return max(deployed) if deployed else None


def rollback(ctx: RunContext) -> int | None:
    """Return to the previous working revision; None when there is none (first install)."""
    revision = ctx.previous_revision
    if revision is None:
        ctx.progress.note(text="no previous revision to roll back to")
        return None
    ctx.progress.note(text=f"rolling back {ctx.names.release} to revision {revision}")
    ctx.providers.helm.rollback(
        release=ctx.names.release,
        namespace=ctx.names.namespace,
        revision=revision,
        wait=True,
        timeout_seconds=ctx.timeout_seconds,
        target=ctx.providers.kube_target,
    )
    return revision
