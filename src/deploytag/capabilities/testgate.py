"""Step 2: the app's own test command gates the deploy."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from deploytag.capabilities.base import Capability
from deploytag.capabilities.context import RunContext, StepResult, annotation
from deploytag.core.config import LoadedConfig
from deploytag.core.errors import CommandError, DeployTagError, ExitStatus, scrub
from deploytag.core.naming import NamePlan

log = logging.getLogger(__name__)

TAIL_LINES = 25


class TestsFailedError(DeployTagError):
    exit_status = ExitStatus.VERIFY


def output_tail(stdout: str, stderr: str, lines: int = TAIL_LINES) -> str:
    """The end of the test run's output, where test runners print the failures and the summary."""
    text = "\n".join(part.rstrip() for part in (stdout, stderr) if part.strip())
    return scrub("\n".join(text.splitlines()[-lines:])) or "(no output)"


class TestGate(Capability):
    name = "test"

    def applies(self, *, loaded: LoadedConfig, names: NamePlan) -> bool:
        return bool(loaded.config.test.command)

    def status(self, *, annotations: Mapping[str, str]) -> Mapping[str, Any]:
        return {"tests": annotations.get(annotation("tests"), "")}

    def ensure(self, *, ctx: RunContext) -> StepResult:
        command = ctx.loaded.config.test.command
        if not command:
            return StepResult("skipped", "no test.command configured")
        if ctx.options.skip_tests:
            # Recorded, so `deploytag inspect` shows this environment runs untested code.
            return StepResult("skipped", "--skip-tests", {annotation("tests"): "skipped"})
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
                check=False,
            )
        except CommandError as e:  # timed out
            raise TestsFailedError(
                f"tests failed: {e.message}",
                hint="fix the failing tests, or pass --skip-tests to deploy anyway",
            ) from e
        if result.returncode != 0:
            raise TestsFailedError(
                f"tests failed ({' '.join(command)} exited with status {result.returncode}); "
                f"last lines:\n{output_tail(result.stdout, result.stderr)}",
                hint="fix the failing tests, or pass --skip-tests to deploy anyway",
            )
        return StepResult("changed", f"passed in {result.seconds:.1f} s", {annotation("tests"): "passed"})
