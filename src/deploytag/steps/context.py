"""What a run of the pipeline carries from step to step."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from deploytag.core.branch import EnvironmentMatch
from deploytag.core.config import LoadedConfig
from deploytag.core.naming import NamePlan
from deploytag.ports.cluster import ANNOTATION_PREFIX
from deploytag.ports.helm import ReleaseInfo
from deploytag.ports.progress import ProgressListener
from deploytag.ports.providers import Providers


@dataclass(frozen=True)
class DeployOptions:
    atomic: bool = False
    supersede: bool = False
    skip_tests: bool = False
    adopt: bool = False
    force: bool = False  # redeploy even when nothing changed
    timeout_seconds: int | None = None  # overrides chart.timeout_seconds
    set_values: Mapping[str, str] = field(default_factory=dict)
    lock_wait_seconds: int | None = None
    skip_build: bool = False  # deploy the commit tag as it is in the registry
    rotate_database_password: bool = False
    allow_older_commit: bool = False  # a person's choice to deploy a commit older than the deployed one


def _carry_on() -> None:
    return None


@dataclass
class RunContext:
    loaded: LoadedConfig
    names: NamePlan
    match: EnvironmentMatch
    providers: Providers
    options: DeployOptions
    progress: ProgressListener
    run_id: str
    # Filled in as steps run:
    injected_values: dict[str, Any] = field(default_factory=dict)
    secret_versions: dict[str, str] = field(default_factory=dict)
    secret_keys: list[str] = field(default_factory=list)
    previous: Mapping[str, str] = field(default_factory=dict)  # namespace annotations before this run
    fingerprint: str = ""
    unchanged: bool = False  # the release matches the fingerprint: skip helm and verify
    release: ReleaseInfo | None = None
    requested_at: float = 0.0  # when this run started: orders requests git cannot (steps.ordering)
    older_than_newest: bool = False  # --allow-older-commit deployed a commit older than the newest
    urls: list[str] = field(default_factory=list)
    record: dict[str, str | None] = field(default_factory=dict)  # annotations to write at the end
    images: dict[str, Any] = field(default_factory=dict)  # image name -> steps.imagebuild.ImageResult
    dns_targets: list[str] = field(default_factory=list)  # load balancer hostnames or IPs (expose step)
    # Connection variables the database step adds to the environment's Secret (never logged).
    extra_secret_data: dict[str, str] = field(default_factory=dict, repr=False)
    database_created: bool = False  # this run created the database: migrate even if the commit ran before
    # Raises SupersededError when a newer run took over or a newer commit waits (steps.lock);
    # long waits inside a step (verify) call it, so the newer commit need not wait for them.
    checkpoint: Callable[[], None] = _carry_on

    @property
    def timeout_seconds(self) -> int:
        return self.options.timeout_seconds or self.loaded.config.chart.timeout_seconds


def annotation(key: str) -> str:
    return ANNOTATION_PREFIX + key


def dumps(value: Any) -> str:
    """Compact, stable JSON for annotations."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class StepResult:
    outcome: str  # changed, unchanged, skipped
    detail: str = ""


class Step(Protocol):
    name: str

    def run(self, ctx: RunContext) -> StepResult: ...
