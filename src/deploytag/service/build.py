"""`deploytag build`: the base image (only when its content changed) and the app image.

The same steps deploy runs first, without a cluster: useful in CI before the
deploy job, and to see the base-image decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deploytag.capabilities.chartvalues import injected_values
from deploytag.capabilities.context import DeployOptions, RunContext
from deploytag.capabilities.outputs import BuiltImages
from deploytag.capabilities.registry import build as build_pipeline
from deploytag.capabilities.runner import StepRecord, run_steps
from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig
from deploytag.core.errors import ConfigError, DeployTagError
from deploytag.core.records import asdict
from deploytag.ports.progress import ProgressListener
from deploytag.ports.providers import Providers
from deploytag.service.deploy import new_run_id
from deploytag.service.reports import report_dict
from deploytag.service.resolve import target_for

BUILD_SCHEMA = "deploytag.build/v1"


@dataclass
class BuildReport:
    schema: str
    outcome: str  # succeeded, failed, skipped
    branch: str
    commit: str
    images: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    exception: DeployTagError | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return report_dict(self)


def build(
    *, loaded: LoadedConfig, providers: Providers, ref: BranchRef, progress: ProgressListener
) -> BuildReport:
    clock = providers.clock
    started = clock.monotonic()
    report = BuildReport(schema=BUILD_SCHEMA, outcome="skipped", branch=ref.branch, commit=ref.commit)
    target = target_for(ref, loaded)
    if target.match is None or target.names is None:
        report.error = f"branch {ref.branch!r} matches no deploy rule; nothing to build"
        return report
    if not loaded.config.images:
        raise ConfigError("no images configured", hint="add an images: section to deploytag.yaml")
    ctx = RunContext(
        loaded=loaded,
        names=target.names,
        match=target.match,
        providers=providers,
        options=DeployOptions(),
        progress=progress,
        run_id=new_run_id(clock.now()),
        injected_values=injected_values(target.names, target.match, loaded),
    )
    records: list[StepRecord] = []
    try:
        run_steps(ctx, build_pipeline(["base", "image"]), records)
        report.outcome = "succeeded"
    except DeployTagError as e:
        report.outcome, report.error, report.exception = "failed", str(e), e
    built = ctx.outputs.find(BuiltImages)
    report.images = [asdict(r) for r in built.results.values()] if built is not None else []
    report.steps = [asdict(r) for r in records]
    report.seconds = round(clock.monotonic() - started, 3)
    return report
