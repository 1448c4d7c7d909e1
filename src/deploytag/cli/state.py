"""What the group passes to commands, and how they build the service's inputs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from deploytag.core.errors import ConfigError

if TYPE_CHECKING:
    from deploytag.core.branch import BranchRef
    from deploytag.core.config import LoadedConfig
    from deploytag.ports.providers import Providers
    from deploytag.service.wiring import Invocation


@dataclass
class CliState:
    repo: Path
    config_file: Path | None
    flags: dict[str, object] = field(default_factory=dict)
    debug: bool = False

    def invocation(self, extra_flags: dict[str, object] | None = None) -> Invocation:
        from deploytag.service.wiring import Invocation

        return Invocation(
            repo=self.repo,
            config_file=self.config_file,
            environ=dict(os.environ),
            flags={**self.flags, **(extra_flags or {})},
        )

    def for_branch(
        self, *, branch: str | None, commit: str | None
    ) -> tuple[LoadedConfig, Providers, BranchRef]:
        """Configuration, providers and the branch to act on (flag, CI variables or git)."""
        from deploytag.service.resolve import resolve_branch

        inv, loaded, providers = self.load()
        ref = resolve_branch(
            branch=branch, commit=commit, environ=inv.environ, loaded=loaded, providers=providers
        )
        return loaded, providers, ref

    def load(
        self, extra_flags: dict[str, object] | None = None
    ) -> tuple[Invocation, LoadedConfig, Providers]:
        from deploytag.service.wiring import build_providers, load

        inv = self.invocation(extra_flags)
        loaded = load(inv)
        return inv, loaded, build_providers(inv, loaded)


pass_state = click.make_pass_decorator(CliState)


def parse_set(values: tuple[str, ...]) -> dict[str, str]:
    from deploytag.core.printable import shown, unprintable

    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {shown(item)} is not KEY=VALUE", hint="write e.g. --set replicaCount=2")
        if unprintable(key) is not None:
            raise ConfigError(
                f"--set key {shown(key)} contains a control character ({unprintable(key)})",
                hint="a key is a dotted path of chart value names, e.g. --set image.tag=v2",
            )
        out[key.strip()] = value
    return out
