"""Helm values layering with provenance: what the chart sees and where each value came from.

This module is the public face; the work is split by concern:

- ``values_layers``: the layer types, and reading each layer (values files, the
  chart and its subcharts, YAML as Helm reads it);
- ``values_set``: ``--set`` parsing and dotted key paths;
- ``values_merge``: Helm's merge and coalescing, and ``explain``.

Here: building a release's layers, handing them to helm, and masking secrets
in what ``explain`` shows.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from msgspec.structs import replace

from deploytag.core.values_layers import (
    CHART_KINDS,
    ExplainedValues,
    LayerKind,
    LayerRef,
    ValueOrigin,
    ValuesLayer,
    chart_layers,
    file_layer,
    injected_layer,
    load_values_yaml,
    local_source,
    set_layer,
)
from deploytag.core.values_merge import deep_merge, explain, lookup
from deploytag.core.values_set import (
    format_path,
    nest_set_values,
    parse_set,
    parse_set_key,
    split_path,
    typed_set_value,
)

__all__ = [
    "MASK",
    "SECRET_KEY",
    "ExplainedValues",
    "LayerKind",
    "LayerRef",
    "ValueOrigin",
    "ValuesLayer",
    "build_layers",
    "chart_layers",
    "deep_merge",
    "explain",
    "file_layer",
    "format_path",
    "helm_inputs",
    "injected_layer",
    "is_secret_key_path",
    "is_secret_path",
    "load_values_yaml",
    "local_source",
    "mask_secrets",
    "nest_set_values",
    "parse_set",
    "parse_set_key",
    "set_layer",
    "split_path",
    "typed_set_value",
]


def build_layers(
    *,
    chart: Path,
    values_files: Sequence[Path] = (),
    injected: Mapping[str, Any] | None = None,
    set_values: Mapping[str, str] | None = None,
) -> list[ValuesLayer]:
    """Every layer in Helm's order of precedence, lowest first."""
    layers = chart_layers(chart)
    layers += [file_layer(p) for p in values_files]
    if injected:
        layers.append(injected_layer(injected))
    if set_values:
        layers.append(set_layer(set_values))
    return layers


def helm_inputs(layers: Sequence[ValuesLayer]) -> tuple[list[Path], dict[str, Any]]:
    """What to hand helm: the values files (``-f``, in order) and one mapping of the
    injected and ``--set`` layers merged, which goes last.

    helm reads the chart and subchart defaults itself; the values files go as
    files so helm reads them as it always would. ``--set`` is merged like a
    values file here, so ``explain`` and helm agree by construction.
    """
    files: list[Path] = []
    mapping: dict[str, Any] = {}
    seen_mapping = False
    for layer in layers:
        if layer.kind in CHART_KINDS:
            continue
        if layer.kind == "file":
            if seen_mapping:
                raise ValueError(
                    f"values file layer {layer.name!r} must come before injected and --set layers"
                )
            files.append(Path(layer.source))
        else:
            seen_mapping = True
            mapping = deep_merge(mapping, layer.data)
    return files, mapping


# --------------------------------------------------------------------------- masking

SECRET_KEY = re.compile(r"password|passwd|secret|token|key", re.IGNORECASE)
# A key naming a secret (envSecretName, secretKeyRef) holds a name, not the secret.
_NAME_LIKE = re.compile(r"(name|names|ref)$", re.IGNORECASE)
MASK = "***"


def is_secret_path(path: str) -> bool:
    """Whether a dotted leaf path looks like it holds a secret (``db.password``)."""
    return is_secret_key_path(split_path(path))


def is_secret_key_path(parts: Sequence[str]) -> bool:
    return bool(parts) and not _NAME_LIKE.search(parts[-1]) and any(SECRET_KEY.search(p) for p in parts)


def mask_secrets(explained: ExplainedValues, *, paths: Iterable[str] = ()) -> ExplainedValues:
    """A copy with secret-looking leaves (and any under ``paths``) shown as ``***``.

    Booleans, nulls and empty values are left visible: they reveal nothing and
    show whether a secret is configured at all.
    """
    extra = [split_path(p) for p in paths]
    merged = copy.deepcopy(explained.merged)
    origins = dict(explained.origins)
    for dotted, origin in explained.origins.items():
        parts = split_path(dotted)
        explicit = any(parts[: len(e)] == e for e in extra)
        if not (explicit or is_secret_path(dotted)):
            continue
        parent = lookup(merged, parts[:-1])[1]
        value = parent.get(parts[-1]) if isinstance(parent, dict) else None
        if value is None or isinstance(value, bool) or value in ("", [], {}):
            continue
        parent[parts[-1]] = MASK
        origins[dotted] = replace(origin, masked=True)
    return ExplainedValues(merged=merged, origins=origins, removed=dict(explained.removed))
