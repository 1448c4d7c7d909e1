"""What a run of the pipeline carries: its inputs, the typed outputs, the annotations to record."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from deploytag.capabilities.base import Capability, Outputs, StepResult
from deploytag.core.branch import EnvironmentMatch
from deploytag.core.config import LoadedConfig
from deploytag.core.naming import NamePlan
from deploytag.ports.cluster import ANNOTATION_PREFIX
from deploytag.ports.progress import ProgressListener
from deploytag.ports.providers import Providers


class DeployOptions(msgspec.Struct, frozen=True):
    atomic: bool = False
    supersede: bool = False
    skip_tests: bool = False
    adopt: bool = False
    force: bool = False  # redeploy even when nothing changed
    timeout_seconds: int | None = None  # overrides chart.timeout_seconds
    set_values: Mapping[str, str] = msgspec.field(default_factory=dict)
    lock_wait_seconds: int | None = None
    skip_build: bool = False  # deploy the commit tag as it is in the registry
    rotate_database_password: bool = False
    allow_older_commit: bool = False  # a person's choice to deploy a commit older than the deployed one
    # Who pushed (CI variables, else the commit's e-mail): capabilities.limits. A callable is
    # asked only when needed (limits.lazy_author), so a redeploy does not start git for it.
    author: str | Callable[[], str] = ""


def _carry_on() -> None:
    return None


class RunContext(msgspec.Struct):
    loaded: LoadedConfig
    names: NamePlan
    match: EnvironmentMatch
    providers: Providers
    options: DeployOptions
    progress: ProgressListener
    run_id: str
    # The chart values DeployTag injects, from the name plan (capabilities add theirs as outputs).
    injected_values: dict[str, Any] = msgspec.field(default_factory=dict)
    previous: Mapping[str, str] = msgspec.field(default_factory=dict)  # namespace annotations before this run
    requested_at: float = 0.0  # when this run started: orders requests git cannot (capabilities.ordering)
    older_than_newest: bool = False  # --allow-older-commit deployed a commit older than the newest
    # The typed hand-offs between capabilities (capabilities/outputs.py), keyed by type.
    outputs: Outputs = msgspec.field(default_factory=Outputs)
    # Annotations the steps returned, collected by the runner; written when the run succeeds.
    recorded: dict[str, str | None] = msgspec.field(default_factory=dict)
    # Raises SupersededError when a newer run took over or a newer commit waits (capabilities.lock);
    # long waits inside a step (verify) call it, so the newer commit need not wait for them.
    checkpoint: Callable[[], None] = _carry_on

    @property
    def extra_secret_data(self) -> Mapping[str, str]:
        """The database's connection variables (read-only view of its DatabaseConnection output)."""
        from deploytag.capabilities.outputs import DatabaseConnection

        found = self.outputs.find(DatabaseConnection)
        return found.values if found is not None else {}

    @property
    def author(self) -> str:
        author = self.options.author
        return author if isinstance(author, str) else author()

    @property
    def timeout_seconds(self) -> int:
        return self.options.timeout_seconds or self.loaded.config.chart.timeout_seconds


def annotation(key: str) -> str:
    return ANNOTATION_PREFIX + key


def dumps(value: Any) -> str:
    """Compact, stable JSON for annotations."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# The runner's view of a step: every capability is one.
Step = Capability

__all__ = ["Capability", "DeployOptions", "RunContext", "Step", "StepResult", "annotation", "dumps"]
