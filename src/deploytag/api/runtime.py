"""What the library gets from the process that runs it, passed in rather than read from globals.

The CLI builds one ``Runtime`` from the real process (``Runtime.from_process()``); a
controller or a test builds its own, with a dict for the environment and a fixed clock.
Nothing under ``deploytag.api`` reads ``os.environ``, ``sys.stdout`` or the wall clock itself.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import msgspec

from deploytag.ports.clock import Clock, SystemClock

if TYPE_CHECKING:
    from deploytag.core.config import LoadedConfig
    from deploytag.ports.providers import Providers
    from deploytag.service.wiring import Invocation

ProvidersFactory = Callable[["Invocation", "LoadedConfig"], "Providers"]
"""Builds the providers for one call from the invocation and the loaded configuration."""


class Runtime(msgspec.Struct, frozen=True, kw_only=True):
    """Streams, environment variables, clock, the app repository and where providers come from."""

    stdout: TextIO
    stderr: TextIO
    environ: Mapping[str, str]
    clock: Clock = msgspec.field(default_factory=SystemClock)
    repo: Path = Path(".")
    config_file: Path | None = None  # default: REPO/deploytag.yaml
    flags: Mapping[str, object] = msgspec.field(
        default_factory=dict
    )  # dotted config keys, highest precedence
    providers: ProvidersFactory | None = None  # default: service.wiring.build_providers

    @classmethod
    def from_process(
        cls,
        *,
        repo: Path = Path("."),
        config_file: Path | None = None,
        flags: Mapping[str, object] | None = None,
    ) -> Runtime:
        """The real process's streams, environment (a copy, read once) and system clock."""
        return cls(
            stdout=sys.stdout,
            stderr=sys.stderr,
            environ=dict(os.environ),
            clock=SystemClock(),
            repo=repo,
            config_file=config_file,
            flags=dict(flags or {}),
        )
