"""What every capability is: one object that plans, checks, ensures, removes and reports one part.

A capability (images, database, DNS, ...) is one class. Its methods are called by
``service/`` for each command, always through the ordered registry
(``capabilities/registry.py``) and, for deploy and destroy, the runner
(``capabilities/runner.py``):

- ``applies``   whether it has anything to do for this environment and configuration;
- ``plan``      the fields it contributes to ``deploytag plan`` (names, never secrets);
- ``preflight`` read-only checks before the first side effect of a deploy;
- ``ensure``    the idempotent deploy step;
- ``check_removal`` / ``removes`` / ``remove`` / ``left_behind``  its part of destroy;
- ``status``    the fields it contributes to ``deploytag status`` (from the namespace's record).

Capabilities hand results to each other only through typed outputs (``Outputs``):
each declares what it ``provides`` and what it ``needs``, and the pipeline checks the
order against those declarations when it is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

import msgspec

from deploytag.core.branch import EnvironmentMatch
from deploytag.core.config import LoadedConfig
from deploytag.core.naming import NamePlan
from deploytag.ports.cluster import NamespaceInfo
from deploytag.ports.progress import ProgressListener
from deploytag.ports.providers import Providers

if TYPE_CHECKING:
    from deploytag.capabilities.context import RunContext

T = TypeVar("T")


class MissingOutputError(RuntimeError):
    """A capability asked for an output nothing before it provided: a bug in the pipeline's order."""


class Outputs:
    """The typed hand-offs of one run, keyed by their type; each is written once, by its provider."""

    def __init__(self) -> None:
        self._values: dict[type[Any], Any] = {}

    def put(self, value: object) -> None:
        self._values[type(value)] = value

    def get(self, kind: type[T]) -> T:
        try:
            return cast(T, self._values[kind])
        except KeyError:
            raise MissingOutputError(
                f"no {kind.__name__} was provided before it was needed; check the capabilities' "
                "provides/needs and their order in capabilities/registry.py"
            ) from None

    def find(self, kind: type[T]) -> T | None:
        """The output if its provider ran (a failed run may stop before it), else None."""
        return cast("T | None", self._values.get(kind))

    def __contains__(self, kind: type[Any]) -> bool:
        return kind in self._values


class StepResult(msgspec.Struct, frozen=True):
    outcome: str  # changed, unchanged, skipped
    detail: str = ""
    # Namespace annotations this step records when the run succeeds (None removes one).
    annotations: Mapping[str, str | None] = msgspec.field(default_factory=dict)


class Removed(msgspec.Struct):
    what: str  # "helm release", "namespace", "lease"
    name: str
    existed: bool
    verified_gone: bool


class LeftBehind(msgspec.Struct):
    what: str  # "database", "database role", "dns record"
    name: str
    where: str  # "db.example:5432", "zone example.com"
    reason: str  # "skipped"

    def line(self) -> str:
        return f"{self.what} {self.name} on {self.where} ({self.reason})"


class Teardown(msgspec.Struct):
    """What destroy knows about the environment, read before its first removal."""

    loaded: LoadedConfig
    names: NamePlan
    providers: Providers
    progress: ProgressListener
    existing: NamespaceInfo | None  # the namespace as it was before destroy started
    skip: frozenset[str]  # parts left behind on request (--skip database/dns)
    timeout_seconds: int
    outputs: Outputs = msgspec.field(default_factory=Outputs)
    removed: list[Removed] = msgspec.field(default_factory=list)  # filled as capabilities remove their parts


class PlanRequest(msgspec.Struct, frozen=True):
    """What `deploytag plan` was asked; capabilities read it, none changes it."""

    loaded: LoadedConfig
    providers: Providers
    names: NamePlan
    match: EnvironmentMatch
    render: bool
    output_dir: Path | None
    set_values: Mapping[str, str]
    read_secrets: bool


class Capability:
    """The base of every capability: defaults for the parts a capability does not have.

    Subclasses set ``name`` (the step name in progress and reports) and implement ``ensure``.
    """

    name: ClassVar[str]
    provides: ClassVar[tuple[type[Any], ...]] = ()
    needs: ClassVar[tuple[type[Any], ...]] = ()

    def applies(self, *, loaded: LoadedConfig, names: NamePlan) -> bool:
        """Whether this environment uses the capability at all (a skipped ensure still provides)."""
        return True

    def plan(self, *, request: PlanRequest) -> Mapping[str, Any]:
        """Fields of the plan result (service/plan.py PlanResult) this capability fills in."""
        return {}

    def preflight(self, *, ctx: RunContext) -> None:
        """Read-only checks before any side effect; raise a DeployTagError saying what to fix."""
        return

    def ensure(self, *, ctx: RunContext) -> StepResult:
        raise NotImplementedError

    def run(self, ctx: RunContext) -> StepResult:
        """The runner's entry point: the ensure of a deploy."""
        return self.ensure(ctx=ctx)

    def check_removal(self, *, teardown: Teardown) -> None:
        """Before destroy removes anything: build what removal needs and read once through it."""
        return

    def removes(self, *, teardown: Teardown) -> bool:
        """Whether destroy has anything of this capability's to remove (else no progress is shown)."""
        return False

    def remove(self, *, teardown: Teardown) -> StepResult:
        """Remove what ensure created, only ours; append to ``teardown.removed`` what was verified gone."""
        return StepResult("unchanged", "nothing to remove")

    def left_behind(self, *, teardown: Teardown) -> list[LeftBehind]:
        """What ``--skip`` leaves of this capability's, and where: after destroy nothing records it."""
        return []

    def status(self, *, annotations: Mapping[str, str]) -> Mapping[str, Any]:
        """Fields of ``deploytag status`` (service/status.py EnvironmentStatus) from the namespace record."""
        return {}
