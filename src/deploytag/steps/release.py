"""Step 8: the app's Helm chart, `helm upgrade --install`, skipped when nothing changed."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import deploytag
from deploytag.core.errors import DeployTagError, ReleaseError
from deploytag.steps.chartvalues import (
    chart_dir,
    digest_chart,
    file_digest,
    fingerprint,
    helm_values,
)
from deploytag.steps.context import RunContext, StepResult, annotation
from deploytag.steps.lastgood import GoodRevision, last_good, restore

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
        except ReleaseError as e:
            raise ReleaseError(e.message, hint=after_failure(ctx, e.hint)) from e
        ctx.release = info
        return StepResult("changed", f"revision {info.revision} ({info.status})")


def after_failure(ctx: RunContext, hint: str | None) -> str:
    """Roll back when asked (--atomic) and say where the environment stands, naming the
    last good revision in every case."""
    good = last_good(ctx.previous)
    rest = hint or "fix the cause above and deploy again"
    if good is None:
        return f"no revision of this environment was ever verified good, so there is none to roll back to; {rest}"
    if atomic_requested(ctx):
        rollback(ctx, good)
        return f"rolled back to {good.describe()}, the last good one; {rest}"
    return (
        f"{good.describe()} is still recorded as the last good one; {rest}, or pass --atomic "
        f"(or run `deploytag rollback --branch {ctx.names.branch}`) to return to it"
    )


def rollback(ctx: RunContext, good: GoodRevision) -> None:
    """Return to the last good revision; a failure to do so is the error the run reports."""
    try:
        restore(
            helm=ctx.providers.helm,
            target=ctx.providers.kube_target,
            release=ctx.names.release,
            namespace=ctx.names.namespace,
            good=good,
            timeout_seconds=ctx.timeout_seconds,
            progress=ctx.progress,
        )
    except DeployTagError as e:
        raise ReleaseError(
            f"the deploy failed, and {e.message}",
            hint=f"{good.describe()} is still recorded as the last good one: run "
            f"`deploytag rollback --branch {ctx.names.branch}` once the cluster is healthy",
        ) from e
