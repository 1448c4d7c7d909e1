"""`deploytag plan`: what a deploy of this branch would do. No cluster, no cloud."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import msgspec

from deploytag.capabilities.base import PlanRequest
from deploytag.capabilities.limits import check_limits
from deploytag.capabilities.namespace import check_owner
from deploytag.capabilities.registry import planners
from deploytag.capabilities.render import DEFAULT_RENDER_DIR, manifest_rows
from deploytag.capabilities.render import lint_rendered as lint_match
from deploytag.capabilities.render import render_release as render_target
from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig
from deploytag.core.lint import Finding
from deploytag.core.records import asdict
from deploytag.ports.helm import RenderedChart
from deploytag.ports.providers import Providers
from deploytag.service.resolve import Target, target_for

__all__ = [
    "DEFAULT_RENDER_DIR",
    "PLAN_SCHEMA",
    "PlanResult",
    "lint_rendered",
    "manifest_rows",
    "plan",
    "render_release",
]

log = logging.getLogger(__name__)

PLAN_SCHEMA = "deploytag.plan/v1"


class PlanResult(msgspec.Struct):
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
    images: list[dict[str, Any]] = msgspec.field(default_factory=list)
    secret_name: str | None = None
    secret_provider: str | None = None
    secret_ids: list[str] = msgspec.field(default_factory=list)
    secret_keys: list[str] | None = None
    database: dict[str, str] | None = None
    dns_records: list[dict[str, str | None]] = msgspec.field(default_factory=list)
    chart: str | None = None
    values_layers: list[str] = msgspec.field(default_factory=list)
    rendered_dir: str | None = None
    manifests: list[dict[str, str]] = msgspec.field(default_factory=list)
    findings: list[dict[str, Any]] = msgspec.field(default_factory=list)

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
    check_cluster: bool = False,
    author: str = "",
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
    names = target.names
    if check_cluster:
        # The reads deploy does before its first side effect, with the same errors.
        cluster = providers.cluster
        existing = cluster.get_namespace(name=names.namespace)
        check_owner(existing, branch=names.branch)
        check_limits(
            cluster=cluster,
            config=loaded.config,
            names=names,
            author=author,
            existing=existing,
            now=providers.clock.now(),
        )
    result.environment = names.environment
    result.kind = names.kind
    result.namespace = names.namespace
    result.release = names.release
    result.slug = names.slug
    request = PlanRequest(
        loaded=loaded,
        providers=providers,
        names=names,
        match=target.match,
        render=render,
        output_dir=output_dir,
        set_values=set_values or {},
        read_secrets=read_secrets,
    )
    # Each capability fills in its part (images, secrets, database, chart and render, DNS records).
    for capability in planners():
        for key, value in capability.plan(request=request).items():
            setattr(result, key, value)
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
    return render_target(
        loaded=loaded,
        providers=providers,
        names=target.names,
        match=target.match,
        output_dir=output_dir,
        set_values=set_values,
    )


def lint_rendered(loaded: LoadedConfig, target: Target, rendered: RenderedChart) -> list[Finding]:
    assert target.match is not None
    return lint_match(loaded, target.match, rendered)
