"""Step 8: the app's Helm chart, `helm upgrade --install`, skipped when nothing changed."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import deploytag
from deploytag.capabilities.base import Capability, PlanRequest, Removed, StepResult, Teardown
from deploytag.capabilities.chartvalues import (
    chart_dir,
    digest_chart,
    file_digest,
    fingerprint,
    helm_values,
    set_overrides,
    values_files,
)
from deploytag.capabilities.context import RunContext, annotation
from deploytag.capabilities.lastgood import GoodRevision, last_good, restore
from deploytag.capabilities.outputs import ImageValues, NamespacePresence, ReleaseResult, SecretsResult
from deploytag.capabilities.preflight import checked
from deploytag.capabilities.render import (
    DEFAULT_RENDER_DIR,
    lint_rendered,
    manifest_rows,
    render_release,
    shown,
)
from deploytag.core.errors import DeployTagError, ReleaseError
from deploytag.core.records import asdict
from deploytag.core.values import file_layer

log = logging.getLogger(__name__)


def compute_fingerprint(
    ctx: RunContext,
    *,
    chart: Path,
    files: list[Path],
    values: dict[str, Any],
    secret_versions: Mapping[str, str],
) -> str:
    return fingerprint(
        {
            "deploytag": deploytag.__version__,
            "commit": ctx.names.commit,
            "chart": digest_chart(chart),
            "values_files": [[str(p), file_digest(p)] for p in files],
            "values": values,
            "secrets": dict(secret_versions),
            "release": ctx.names.release,
            "namespace": ctx.names.namespace,
        }
    )


def atomic_requested(ctx: RunContext) -> bool:
    return ctx.options.atomic or ctx.loaded.config.chart.atomic


class ReleaseStep(Capability):
    """The app's Helm chart: rendered by plan, installed by deploy, uninstalled by destroy."""

    name = "release"
    needs = (ImageValues, SecretsResult)
    provides = (ReleaseResult,)

    def status(self, *, annotations: Mapping[str, str]) -> Mapping[str, Any]:
        """The revision `deploy --atomic` and `deploytag rollback` would restore."""
        good = last_good(annotations)
        return {"last_good": {"revision": good.revision, "commit": good.commit}} if good else {}

    def plan(self, *, request: PlanRequest) -> Mapping[str, Any]:
        loaded, root = request.loaded, request.loaded.root
        chart = chart_dir(loaded)
        files = values_files(loaded, request.match.environment)
        fields: dict[str, Any] = {
            "chart": shown(chart, root),
            "values_layers": [
                f"chart {shown(chart / 'values.yaml', root)}",
                *(f"file {shown(p, root)}" for p in files),
                "injected by DeployTag",
                *(["--set"] if set_overrides(loaded, request.set_values) else []),
            ],
        }
        if request.render:
            rendered = render_release(
                loaded=loaded,
                providers=request.providers,
                names=request.names,
                match=request.match,
                output_dir=request.output_dir or root / DEFAULT_RENDER_DIR,
                set_values=request.set_values,
            )
            fields["rendered_dir"] = str(rendered.directory)
            fields["manifests"] = manifest_rows(rendered)
            fields["findings"] = [asdict(f) for f in lint_rendered(loaded, request.match, rendered)]
        return fields

    def preflight(self, *, ctx: RunContext) -> None:
        """helm is installed, the chart and values files exist and parse. helm first: while it
        starts (tens of milliseconds) the run goes on reading the environment."""
        ctx.providers.helm.version()
        chart_dir(ctx.loaded)
        for path in values_files(ctx.loaded, ctx.names.environment):
            file_layer(path)  # parses: a broken values file fails here, not half-way through
        helm_values(ctx.loaded, ctx.match, injected=ctx.injected_values, set_values=ctx.options.set_values)

    def check_removal(self, *, teardown: Teardown) -> None:
        if teardown.existing is not None:
            checked("helm", "", lambda: teardown.providers.helm.version())

    def removes(self, *, teardown: Teardown) -> bool:
        return True

    def remove(self, *, teardown: Teardown) -> StepResult:
        providers, names = teardown.providers, teardown.names
        helm, kube, cluster = providers.helm, providers.kube_target, providers.cluster
        release, namespace, timeout = names.release, names.namespace, teardown.timeout_seconds
        # Read once under the lease: uninstalling the release leaves the namespace in place.
        ns_existed = cluster.get_namespace(name=namespace) is not None
        teardown.outputs.put(NamespacePresence(ns_existed))
        existed = ns_existed and helm.uninstall(
            release=release, namespace=namespace, timeout_seconds=timeout, target=kube
        )
        gone = not ns_existed or helm.status(release=release, namespace=namespace, target=kube) is None
        teardown.removed.append(Removed("helm release", release, existed, gone))
        return StepResult("changed" if existed else "unchanged", "uninstalled" if existed else "no release")

    def ensure(self, *, ctx: RunContext) -> StepResult:
        helm = ctx.providers.helm
        target = ctx.providers.kube_target
        names = ctx.names
        chart = chart_dir(ctx.loaded)
        secrets = ctx.outputs.get(SecretsResult)
        injected = {**ctx.injected_values, **ctx.outputs.get(ImageValues).values, **secrets.injected}
        files, values = helm_values(
            ctx.loaded, ctx.match, injected=injected, set_values=ctx.options.set_values
        )
        wanted = compute_fingerprint(
            ctx, chart=chart, files=files, values=values, secret_versions=secrets.versions
        )
        recorded = {annotation("fingerprint"): wanted}
        status = helm.head(release=names.release, namespace=names.namespace, target=target)
        previous = ctx.previous
        if (
            not ctx.options.force
            and status is not None
            and status.status == "deployed"
            and previous.get(annotation("fingerprint")) == wanted
            and previous.get(annotation("outcome")) == "succeeded"
            and previous.get(annotation("revision")) == str(status.revision)
        ):
            ctx.outputs.put(ReleaseResult(status, unchanged=True, fingerprint=wanted))
            return StepResult("unchanged", f"revision {status.revision} is current", recorded)
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
        ctx.outputs.put(ReleaseResult(info, unchanged=False, fingerprint=wanted))
        return StepResult("changed", f"revision {info.revision} ({info.status})", recorded)


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
