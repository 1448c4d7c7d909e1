"""Step 2: the app's own test command gates the deploy."""

from __future__ import annotations

import logging

from deploytag.core.errors import CommandError, DeployTagError, ExitStatus
from deploytag.steps.context import RunContext, StepResult, annotation

log = logging.getLogger(__name__)


class TestsFailedError(DeployTagError):
    exit_status = ExitStatus.VERIFY


class TestGate:
    name = "test"

    def run(self, ctx: RunContext) -> StepResult:
        command = ctx.loaded.config.test.command
        if not command:
            return StepResult("skipped", "no test.command configured")
        if ctx.options.skip_tests:
            return StepResult("skipped", "--skip-tests")
        previous = ctx.previous
        if (
            previous.get(annotation("commit")) == ctx.names.commit
            and previous.get(annotation("tests")) == "passed"
            and ctx.names.commit
        ):
            return StepResult("unchanged", f"already passed for {ctx.names.short_commit}")
        try:
            result = ctx.providers.runner.run(
                argv=command,
                cwd=ctx.loaded.root,
                timeout_seconds=ctx.loaded.config.test.timeout_seconds,
            )
        except CommandError as e:
            raise TestsFailedError(
                f"tests failed: {e.message}",
                hint="fix the failing tests, or pass --skip-tests to deploy anyway",
            ) from e
        ctx.record[annotation("tests")] = "passed"
        return StepResult("changed", f"passed in {result.seconds:.1f} s")
