"""Runs capabilities in order, for deploy (ensure) and destroy (remove): timing, progress, retries.

The runner owns retries (DESIGN.md): a capability raising a retryable
DeployTagError is run again with backoff; every ensure and every remove is
idempotent, so that is safe. After each step ``after_each`` gets its record
(deploy writes the progress onto the namespace with it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, MutableMapping, Sequence

import msgspec

from deploytag.capabilities.base import Capability, MissingOutputError, Outputs, StepResult
from deploytag.capabilities.context import RunContext
from deploytag.capabilities.lock import SupersededError
from deploytag.core.errors import DeployTagError
from deploytag.ports.clock import Clock
from deploytag.ports.progress import ProgressListener

log = logging.getLogger(__name__)

ATTEMPTS = 3
BACKOFF_SECONDS = (1.0, 3.0)


class StepRecord(msgspec.Struct, frozen=True):
    name: str
    outcome: str
    seconds: float
    detail: str


def run_steps(
    ctx: RunContext,
    steps: Sequence[Capability],
    records: list[StepRecord],
    *,
    before_each: Callable[[], None] = lambda: None,
    after_each: Callable[[StepRecord], None] = lambda _r: None,
) -> None:
    """Deploy: each capability's ensure; what it provides is checked, what it records is kept."""

    def ensure(capability: Capability) -> StepResult:
        result = capability.run(ctx)
        _check_provided(capability, ctx.outputs)
        return result

    run_each(
        steps,
        ensure,
        clock=ctx.providers.clock,
        progress=ctx.progress,
        records=records,
        recorded=ctx.recorded,
        before_each=before_each,
        after_each=after_each,
    )


def run_each(
    steps: Sequence[Capability],
    action: Callable[[Capability], StepResult],
    *,
    clock: Clock,
    progress: ProgressListener,
    records: list[StepRecord],
    recorded: MutableMapping[str, str | None] | None = None,
    before_each: Callable[[], None] = lambda: None,
    after_each: Callable[[StepRecord], None] = lambda _r: None,
) -> None:
    """``action`` on each step in order; ``recorded`` collects the annotations the steps return."""
    for step in steps:
        before_each()
        progress.step_started(step=step.name)
        started = clock.monotonic()
        try:
            result = _with_retries(step, action, clock, progress)
        except DeployTagError as e:
            seconds = clock.monotonic() - started
            outcome = "superseded" if isinstance(e, SupersededError) else "failed"
            record = StepRecord(step.name, outcome, seconds, e.message)
            records.append(record)
            progress.step_finished(step=step.name, outcome=outcome, seconds=seconds, detail=e.message)
            raise
        seconds = clock.monotonic() - started
        if recorded is not None:
            recorded.update(result.annotations)
        record = StepRecord(step.name, result.outcome, seconds, result.detail)
        records.append(record)
        progress.step_finished(step=step.name, outcome=result.outcome, seconds=seconds, detail=result.detail)
        after_each(record)


def _check_provided(capability: Capability, outputs: Outputs) -> None:
    missing = [kind.__name__ for kind in capability.provides if kind not in outputs]
    if missing:
        raise MissingOutputError(
            f"capability {capability.name!r} declares it provides {', '.join(missing)} but did not"
        )


def _with_retries(
    step: Capability,
    action: Callable[[Capability], StepResult],
    clock: Clock,
    progress: ProgressListener,
) -> StepResult:
    attempt = 1
    while True:
        try:
            return action(step)
        except DeployTagError as e:
            if not e.retryable or attempt >= ATTEMPTS:
                raise
            wait = BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)]
            progress.note(text=f"{step.name}: {e.message}; retrying in {wait:g} s")
            clock.sleep(wait)
            attempt += 1
