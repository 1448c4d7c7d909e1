"""The CommandRunner port: the one choke point for external programs.

Argument lists only, never shell strings. Implemented by
``adapters.common.process.SubprocessRunner``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import msgspec


class CommandResult(msgspec.Struct, frozen=True):
    argv: Sequence[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


class CommandRunner(Protocol):
    def which(self, *, program: str) -> str | None: ...

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
        """Run and capture; with ``check`` a non-zero exit raises CommandError.

        ``secrets`` are scrubbed from any output carried by an error.
        """
        ...
