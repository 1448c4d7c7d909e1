"""What the group passes to commands, and how they build the service's inputs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
import msgspec

from deploytag.core.errors import ConfigError

if TYPE_CHECKING:
    from deploytag.api.runtime import Runtime
    from deploytag.api.session import Invocation
    from deploytag.core.branch import BranchRef
    from deploytag.core.config import LoadedConfig
    from deploytag.ports.providers import Providers


class CliState(msgspec.Struct):
    repo: Path
    config_file: Path | None
    flags: dict[str, object] = msgspec.field(default_factory=dict)
    debug: bool = False

    def runtime(self) -> Runtime:
        """The process's streams, environment and clock, read here once; the library reads no globals."""
        from deploytag.api.runtime import Runtime

        return Runtime.from_process(repo=self.repo, config_file=self.config_file, flags=self.flags)

    def invocation(self, extra_flags: dict[str, object] | None = None) -> Invocation:
        from deploytag.api.session import invocation

        return invocation(self.runtime(), extra_flags)

    def for_branch(
        self, *, branch: str | None, commit: str | None
    ) -> tuple[LoadedConfig, Providers, BranchRef]:
        """Configuration, providers and the branch to act on (flag, CI variables or git)."""
        from deploytag.api.session import for_branch

        return for_branch(self.runtime(), branch=branch, commit=commit)

    def load(
        self, extra_flags: dict[str, object] | None = None
    ) -> tuple[Invocation, LoadedConfig, Providers]:
        from deploytag.api.session import configured

        return configured(self.runtime(), extra_flags)


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
