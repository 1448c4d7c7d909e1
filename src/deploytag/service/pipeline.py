"""Runs steps in order: timing, progress, retries of retryable failures, recorded progress.

The runner owns retries (DESIGN.md): a step raising a retryable DeployTagError
is run again with backoff; every step is an idempotent ensure, so that is safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from deploytag.core.errors import DeployTagError
from deploytag.steps.context import RunContext, Step, StepResult
from deploytag.steps.lock import SupersededError

log = logging.getLogger(__name__)

ATTEMPTS = 3
BACKOFF_SECONDS = (1.0, 3.0)


@dataclass(frozen=True)
class StepRecord:
    name: str
    outcome: str
    seconds: float
    detail: str


def run_steps(
    ctx: RunContext,
    steps: Sequence[Step],
    records: list[StepRecord],
    *,
    before_each: Callable[[], None] = lambda: None,
    after_each: Callable[[StepRecord], None] = lambda _r: None,
) -> None:
    clock = ctx.providers.clock
    for step in steps:
        before_each()
        ctx.progress.step_started(step=step.name)
        started = clock.monotonic()
        try:
            result = _with_retries(ctx, step)
        except DeployTagError as e:
            seconds = clock.monotonic() - started
            outcome = "superseded" if isinstance(e, SupersededError) else "failed"
            record = StepRecord(step.name, outcome, seconds, e.message)
            records.append(record)
            ctx.progress.step_finished(step=step.name, outcome=outcome, seconds=seconds, detail=e.message)
            raise
        seconds = clock.monotonic() - started
        record = StepRecord(step.name, result.outcome, seconds, result.detail)
        records.append(record)
        ctx.progress.step_finished(
            step=step.name, outcome=result.outcome, seconds=seconds, detail=result.detail
        )
        after_each(record)


def _with_retries(ctx: RunContext, step: Step) -> StepResult:
    attempt = 1
    while True:
        try:
            return step.run(ctx)
        except DeployTagError as e:
            if not e.retryable or attempt >= ATTEMPTS:
                raise
            wait = BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)]
            ctx.progress.note(text=f"{step.name}: {e.message}; retrying in {wait:g} s")
            ctx.providers.clock.sleep(wait)
            attempt += 1
