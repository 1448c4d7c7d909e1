"""`sleep` and `wake` in the public API: scale a branch's environment to zero and back."""

from __future__ import annotations

import msgspec

from deploytag.api.runtime import Runtime
from deploytag.api.session import for_branch
from deploytag.core.identity import actor as actor_from
from deploytag.service import sleep as sleep_service
from deploytag.service.sleep import SleepResult


class SleepOptions(msgspec.Struct, frozen=True, kw_only=True):
    branch: str | None = None
    commit: str | None = None
    actor: str | None = None  # who asks; default: the CI user or login name from the runtime's environment


class WakeOptions(msgspec.Struct, frozen=True, kw_only=True):
    branch: str | None = None
    commit: str | None = None
    actor: str | None = None


def sleep(*, runtime: Runtime, options: SleepOptions | None = None) -> SleepResult:
    """Scale the branch's Deployments and StatefulSets to zero, recording their replicas; idempotent."""
    options = options or SleepOptions()
    loaded, providers, ref = for_branch(runtime, branch=options.branch, commit=options.commit)
    return sleep_service.sleep_environment(
        loaded=loaded, providers=providers, ref=ref, actor=options.actor or actor_from(runtime.environ)
    )


def wake(*, runtime: Runtime, options: WakeOptions | None = None) -> SleepResult:
    """Restore the replicas ``sleep`` recorded; an awake environment is left alone."""
    options = options or WakeOptions()
    loaded, providers, ref = for_branch(runtime, branch=options.branch, commit=options.commit)
    return sleep_service.wake_environment(
        loaded=loaded, providers=providers, ref=ref, actor=options.actor or actor_from(runtime.environ)
    )
