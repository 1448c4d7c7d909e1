"""`deploytag plan`: what a deploy of this branch would do. No cluster, no cloud."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig
from deploytag.core.dnsowner import owner_name
from deploytag.core.errors import ConfigError, DeployTagError
from deploytag.core.extras import MissingPackageError
from deploytag.core.lint import Finding, lint_manifests
from deploytag.core.naming import NamePlan
from deploytag.ports.helm import RenderedChart
from deploytag.ports.providers import Providers
from deploytag.service.resolve import Target, target_for
from deploytag.steps.chartvalues import (
    chart_dir,
    helm_values,
    injected_values,
    set_overrides,
    values_files,
)
from deploytag.steps.database import enabled as database_enabled
from deploytag.steps.database import marker_for
from deploytag.steps.render import render_values

log = logging.getLogger(__name__)

PLAN_SCHEMA = "deploytag.plan/v1"
DEFAULT_RENDER_DIR = Path(".deploytag") / "rendered"


@dataclass
class PlanResult:
    """The documented `plan --output json` schema (docs/plan.md); field order is the output order."""

    schema: str
    branch: str
    commit: str
    branch_source: str
    deploy: bool
    skipped_reason: str | None = None
    environment: str | None = None
    kind: str | None = None
    namespace: str | None = None
    release: str | None = None
    slug: str | None = None
    images: list[dict[str, Any]] = field(default_factory=list)
    secret_name: str | None = None
    secret_provider: str | None = None
    secret_ids: list[str] = field(default_factory=list)
    secret_keys: list[str] | None = None
    database: dict[str, str] | None = None
    dns_records: list[dict[str, str | None]] = field(default_factory=list)
    chart: str | None = None
    values_layers: list[str] = field(default_factory=list)
    rendered_dir: str | None = None
    manifests: list[dict[str, str]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan(
    *,
    loaded: LoadedConfig,
    providers: Providers,
    ref: BranchRef,
    render: bool = True,
    output_dir: Path | None = None,
    set_values: dict[str, str] | None = None,
    read_secrets: bool = False,
) -> PlanResult:
    target = target_for(ref, loaded)
    result = PlanResult(
        schema=PLAN_SCHEMA,
        branch=ref.branch,
        commit=ref.commit,
        branch_source=ref.source,
        deploy=target.match is not None,
    )
    if target.match is None or target.names is None:
        rules = ", ".join([*loaded.config.branches.permanent, *loaded.config.branches.previews])
        result.skipped_reason = f"branch {ref.branch!r} matches no rule ({rules})"
        return result
    _fill_names(result, target, loaded)
    result.secret_keys = _secret_keys(loaded, providers, read_secrets)
    if result.database is not None and "exists" not in result.database:
        result.database.update(_database_exists(target.names, providers))
    chart = chart_dir(loaded)
    files = values_files(loaded, target.match.environment)
    result.chart = _shown(chart, loaded.root)
    result.values_layers = [
        f"chart {_shown(chart / 'values.yaml', loaded.root)}",
        *(f"file {_shown(p, loaded.root)}" for p in files),
        "injected by DeployTag",
        *(["--set"] if set_overrides(loaded, set_values or {}) else []),
    ]
    if render:
        out = output_dir or loaded.root / DEFAULT_RENDER_DIR
        rendered = render_release(
            loaded=loaded, providers=providers, target=target, output_dir=out, set_values=set_values or {}
        )
        result.rendered_dir = str(rendered.directory)
        result.manifests = manifest_rows(rendered)
        result.findings = [asdict(f) for f in lint_rendered(loaded, target, rendered)]
    return result


def render_release(
    *,
    loaded: LoadedConfig,
    providers: Providers,
    target: Target,
    output_dir: Path,
    set_values: dict[str, str],
) -> RenderedChart:
    assert target.match is not None and target.names is not None
    files, values = helm_values(
        loaded,
        target.match,
        injected=injected_values(target.names, target.match, loaded),
        set_values=set_values,
    )
    return render_values(
        helm=providers.helm,
        chart=chart_dir(loaded),
        release=target.names.release,
        namespace=target.names.namespace,
        values_files=files,
        values=values,
        output_dir=output_dir,
    )


def _shown(path: Path, root: Path) -> str:
    """Paths inside the app repository relative to it, as a developer would type them."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def lint_rendered(loaded: LoadedConfig, target: Target, rendered: RenderedChart) -> list[Finding]:
    assert target.match is not None
    return lint_manifests(
        list(rendered.manifests),
        severity=loaded.config.lint.severity,
        min_replicas=target.match.min_replicas,
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


def _fill_names(result: PlanResult, target: Target, loaded: LoadedConfig) -> None:
    names = target.names
    assert names is not None and target.match is not None
    cfg = loaded.config
    result.environment = names.environment
    result.kind = names.kind
    result.namespace = names.namespace
    result.release = names.release
    result.slug = names.slug
    result.images = [{"name": i.name, "repository": i.repository, "tags": list(i.tags)} for i in names.images]
    result.secret_provider = cfg.secrets.provider
    result.secret_ids = list(cfg.secrets.ids)
    result.secret_name = names.secret_name if cfg.secrets.ids else None
    if cfg.database.engine:
        result.database = {"engine": cfg.database.engine, "name": names.database, "role": names.database_role}
        if not database_enabled(loaded, names):
            result.database["exists"] = f"not used: {names.environment} is not in database.environments"
    result.dns_records = [
        {
            "template": r.template,
            "name": r.label,
            "fqdn": r.fqdn,
            "owner": owner_name(r.fqdn) if r.fqdn else None,
        }
        for r in names.dns_records
    ]


def _database_exists(names: NamePlan, providers: Providers) -> dict[str, str]:
    """Whether the database and role exist; plan never fails for want of an admin connection."""
    try:
        db = providers.database
        database = db.database_state(database=names.database)
        role = db.role_state(role=names.database_role)
    except MissingPackageError as e:
        return {"exists": f"unknown: {e}"}
    except ConfigError:
        return {"exists": "unknown: no admin connection"}
    except DeployTagError as e:
        return {"exists": f"unknown: {e.message}"}

    def word(exists: bool, marker: str | None) -> str:
        return ("yes (ours)" if marker == marker_for(names) else "yes") if exists else "no"

    return {
        "database_exists": word(database.exists, database.marker),
        "role_exists": word(role.exists, role.marker),
        "server": db.describe(),
    }


def _secret_keys(loaded: LoadedConfig, providers: Providers, read_secrets: bool) -> list[str] | None:
    """Key names only. A cloud store is read only when asked: plan needs no cloud."""
    cfg = loaded.config.secrets
    if not cfg.ids or (cfg.provider != "file" and not read_secrets):
        return None
    return providers.secret_store.describe_keys(ids=cfg.ids)
