"""Read-only inspection: effective configuration, values with provenance, render, lint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deploytag.capabilities.chartvalues import injected_values, release_layers
from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig, flatten
from deploytag.core.errors import PlanError
from deploytag.core.lint import RULES
from deploytag.core.records import asdict
from deploytag.core.settingsmodel import to_data
from deploytag.ports.providers import Providers
from deploytag.service.plan import DEFAULT_RENDER_DIR, lint_rendered, manifest_rows, render_release
from deploytag.service.resolve import Target, target_for
from deploytag.service.wiring import Invocation, load


def explain_config(inv: Invocation) -> list[dict[str, Any]]:
    """Every leaf setting with its value and where it came from."""
    loaded = load(inv)
    values = flatten(to_data(loaded.config))
    return [
        {"key": key, "value": value, "source": loaded.sources.get(key, "default")}
        for key, value in values.items()
    ]


def deployable(ref: BranchRef, loaded: LoadedConfig) -> Target:
    target = target_for(ref, loaded)
    if target.match is None:
        raise PlanError(
            f"branch {ref.branch!r} matches no deploy rule, so it has no release to show",
            hint="pass --branch with a branch that matches branches.previews or branches.permanent",
        )
    return target


def render_manifests(
    *,
    loaded: LoadedConfig,
    providers: Providers,
    ref: BranchRef,
    output_dir: Path | None,
    set_values: dict[str, str],
) -> dict[str, Any]:
    target = deployable(ref, loaded)
    out = output_dir or loaded.root / DEFAULT_RENDER_DIR
    rendered = render_release(
        loaded=loaded, providers=providers, target=target, output_dir=out, set_values=set_values
    )
    files = list(rendered.files)
    return {
        "rendered_dir": str(rendered.directory),
        "files": [str(f.relative_to(rendered.directory)) for f in files],
        "manifests": manifest_rows(rendered),
    }


def lint_branch(
    *, loaded: LoadedConfig, providers: Providers, ref: BranchRef, set_values: dict[str, str]
) -> dict[str, Any]:
    target = deployable(ref, loaded)
    out = loaded.root / DEFAULT_RENDER_DIR
    rendered = render_release(
        loaded=loaded, providers=providers, target=target, output_dir=out, set_values=set_values
    )
    findings = lint_rendered(loaded, target, rendered)
    return {"branch": ref.branch, "findings": [asdict(f) for f in findings]}


def rules_table() -> list[dict[str, str]]:
    return [{"rule": rid, "default": r.default, "description": r.description} for rid, r in RULES.items()]


def explain_values(*, loaded: LoadedConfig, ref: BranchRef, set_values: dict[str, str]) -> dict[str, Any]:
    """The merged values and, per leaf, the layer that set it and the layers it overrode."""
    from deploytag.core.values import explain, mask_secrets

    target = deployable(ref, loaded)
    assert target.names is not None and target.match is not None
    layers = release_layers(
        loaded,
        target.match,
        injected=injected_values(target.names, target.match, loaded),
        set_values=set_values,
    )
    explained = mask_secrets(explain(layers))
    keys = []
    for path, origin in sorted(explained.origins.items()):
        keys.append(
            {
                "key": path,
                "value": _lookup(explained.merged, path, origin.masked),
                "source": f"{origin.layer.kind} {origin.layer.source}",
                "overrides": [f"{o.kind} {o.source}" for o in origin.overridden],
                "masked": origin.masked,
            }
        )
    return {
        "branch": ref.branch,
        "release": target.names.release,
        "layers": [f"{layer.kind} {layer.source}" for layer in layers],
        "values": explained.merged,
        "keys": keys,
        "removed": sorted(explained.removed),
    }


def _lookup(tree: Any, path: str, masked: bool) -> Any:
    from deploytag.core.values import split_path

    node = tree
    for part in split_path(path):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return "***" if masked else None
    return node
