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

from deploytag.core.values import ValuesLayer, helm_inputs
from deploytag.ports.helm import Helm, RenderedChart

log = logging.getLogger(__name__)


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
