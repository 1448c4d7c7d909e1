"""From a Runtime to what the service needs: configuration, providers and the branch."""

from __future__ import annotations

from deploytag.api.runtime import Runtime
from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig
from deploytag.ports.providers import Providers
from deploytag.service.resolve import resolve_branch
from deploytag.service.wiring import Invocation, build_providers, load

__all__ = ["Invocation", "configured", "for_branch", "invocation"]


def invocation(runtime: Runtime, extra_flags: dict[str, object] | None = None) -> Invocation:
    return Invocation(
        repo=runtime.repo,
        config_file=runtime.config_file,
        environ=dict(runtime.environ),
        flags={**runtime.flags, **(extra_flags or {})},
    )


def configured(
    runtime: Runtime, extra_flags: dict[str, object] | None = None
) -> tuple[Invocation, LoadedConfig, Providers]:
    """The configuration (flag > DEPLOYTAG_* in the runtime's environ > file > default) and its providers."""
    inv = invocation(runtime, extra_flags)
    loaded = load(inv)
    if runtime.providers is not None:
        return inv, loaded, runtime.providers(inv, loaded)
    return inv, loaded, build_providers(inv, loaded, clock=runtime.clock)


def for_branch(
    runtime: Runtime,
    *,
    branch: str | None,
    commit: str | None,
    extra_flags: dict[str, object] | None = None,
) -> tuple[LoadedConfig, Providers, BranchRef]:
    """Configuration, providers and the branch to act on (given, CI variables, or git)."""
    inv, loaded, providers = configured(runtime, extra_flags)
    ref = resolve_branch(
        branch=branch, commit=commit, environ=inv.environ, loaded=loaded, providers=providers
    )
    return loaded, providers, ref
