"""Render the chart with the real helm, the values layered as ``deploytag values --explain`` shows them.

Used by ``deploytag render``/``plan`` and before every release: dependencies first
(skipped when charts/ is current), then ``helm template`` into one file per manifest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from deploytag.capabilities.chartvalues import chart_dir, helm_values, injected_values
from deploytag.core.branch import EnvironmentMatch
from deploytag.core.config import LoadedConfig
from deploytag.core.lint import Finding, lint_manifests
from deploytag.core.naming import NamePlan
from deploytag.core.values import ValuesLayer, helm_inputs
from deploytag.ports.helm import Helm, RenderedChart
from deploytag.ports.providers import Providers

log = logging.getLogger(__name__)

DEFAULT_RENDER_DIR = Path(".deploytag") / "rendered"


def render_chart(
    *,
    helm: Helm,
    chart: Path,
    release: str,
    namespace: str,
    layers: Sequence[ValuesLayer],
    output_dir: Path,
) -> RenderedChart:
    """``layers`` as built by ``core.values.build_layers``; the chart's own layers are
    for explaining only, helm reads those from the chart itself."""
    values_files, values = helm_inputs(layers)
    return render_values(
        helm=helm,
        chart=chart,
        release=release,
        namespace=namespace,
        values_files=values_files,
        values=values,
        output_dir=output_dir,
    )


def render_values(
    *,
    helm: Helm,
    chart: Path,
    release: str,
    namespace: str,
    values_files: Sequence[Path],
    values: Mapping[str, Any],
    output_dir: Path,
) -> RenderedChart:
    """Dependencies first (skipped when charts/ is current), then ``helm template``."""
    started = time.monotonic()
    helm.dependency_build(chart=chart)
    rendered = helm.template(
        chart=chart,
        release=release,
        namespace=namespace,
        values_files=values_files,
        values=values,
        output_dir=output_dir,
    )
    log.info(
        "rendered %d manifests into %s in %.2f s",
        len(rendered.manifests),
        output_dir,
        time.monotonic() - started,
    )
    return rendered


def render_release(
    *,
    loaded: LoadedConfig,
    providers: Providers,
    names: NamePlan,
    match: EnvironmentMatch,
    output_dir: Path,
    set_values: Mapping[str, str],
) -> RenderedChart:
    """The chart as a deploy of this environment would install it (plan, render, inspect)."""
    files, values = helm_values(
        loaded, match, injected=injected_values(names, match, loaded), set_values=set_values
    )
    return render_values(
        helm=providers.helm,
        chart=chart_dir(loaded),
        release=names.release,
        namespace=names.namespace,
        values_files=files,
        values=values,
        output_dir=output_dir,
    )


def shown(path: Path, root: Path) -> str:
    """Paths inside the app repository relative to it, as a developer would type them."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def lint_rendered(loaded: LoadedConfig, match: EnvironmentMatch, rendered: RenderedChart) -> list[Finding]:
    return lint_manifests(
        list(rendered.manifests),
        severity=loaded.config.lint.severity,
        min_replicas=match.min_replicas,
        sources=source_files(rendered),
    )


def source_files(rendered: RenderedChart) -> list[str | None]:
    """For each manifest, the file it was written to, relative to the render directory."""
    return [str(s.relative_to(rendered.directory)) for s in rendered.sources]


def manifest_rows(rendered: RenderedChart) -> list[dict[str, str]]:
    """``{kind, name, file}`` per manifest, as plan and render report them."""
    return [
        {
            "kind": str(m.get("kind", "")),
            "name": str((m.get("metadata") or {}).get("name", "")),
            "file": str(source),
        }
        for m, source in zip(rendered.manifests, source_files(rendered), strict=True)
    ]
