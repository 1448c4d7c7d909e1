"""DeployTag's public API: what the CLI and a controller call.

Each call takes a ``Runtime`` (streams, environment variables, clock, repository,
providers) and a frozen options record, and returns the typed record the CLI
prints with ``--output json`` (``to_dict()`` gives that JSON). Example::

    from deploytag import api

    runtime = api.Runtime.from_process(repo=Path("examples/guestbook"))
    result = api.plan(runtime=runtime, options=api.PlanOptions(branch="feature/x"))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from deploytag.api.options import (
    BuildOptions,
    DeployOptions,
    DestroyOptions,
    DnsOptions,
    GcOptions,
    InitOptions,
    LintOptions,
    ListOptions,
    PinOptions,
    PlanOptions,
    RenderOptions,
    RollbackOptions,
    StatusOptions,
    UnpinOptions,
    ValuesOptions,
)
from deploytag.api.runtime import ProvidersFactory, Runtime

if TYPE_CHECKING:
    from deploytag.api.calls import deploy, destroy, init, list_environments, plan, rollback, status
    from deploytag.api.fleet import gc, pin, unpin
    from deploytag.api.sleep import SleepOptions, WakeOptions, sleep, wake
    from deploytag.api.tools import build, dns, effective_config, lint, lint_rules, merged_values, render
    from deploytag.ports.progress import ProgressListener, SilentProgress
    from deploytag.service.build import BuildReport
    from deploytag.service.deploy import DeployReport
    from deploytag.service.destroy import DestroyReport
    from deploytag.service.dns import DnsReport
    from deploytag.service.environments import EnvironmentRow
    from deploytag.service.gc import GcEntry, GcReport
    from deploytag.service.init import InitFile, InitReport
    from deploytag.service.pins import PinReport
    from deploytag.service.plan import PlanResult
    from deploytag.service.rollback import RollbackReport
    from deploytag.service.sleep import SleepResult
    from deploytag.service.status import EnvironmentStatus

# Imported on first use: `plan` then never imports the deploy, destroy or rollback services
# (nor what they import), and a controller pays only for the calls it makes.
_LAZY = {
    "deploy": "deploytag.api.calls",
    "destroy": "deploytag.api.calls",
    "init": "deploytag.api.calls",
    "list_environments": "deploytag.api.calls",
    "plan": "deploytag.api.calls",
    "rollback": "deploytag.api.calls",
    "status": "deploytag.api.calls",
    "gc": "deploytag.api.fleet",
    "pin": "deploytag.api.fleet",
    "unpin": "deploytag.api.fleet",
    "build": "deploytag.api.tools",
    "dns": "deploytag.api.tools",
    "effective_config": "deploytag.api.tools",
    "lint": "deploytag.api.tools",
    "lint_rules": "deploytag.api.tools",
    "merged_values": "deploytag.api.tools",
    "render": "deploytag.api.tools",
    "sleep": "deploytag.api.sleep",
    "wake": "deploytag.api.sleep",
    "SleepOptions": "deploytag.api.sleep",
    "WakeOptions": "deploytag.api.sleep",
    "ProgressListener": "deploytag.ports.progress",
    "SilentProgress": "deploytag.ports.progress",
    "BuildReport": "deploytag.service.build",
    "DeployReport": "deploytag.service.deploy",
    "DestroyReport": "deploytag.service.destroy",
    "DnsReport": "deploytag.service.dns",
    "EnvironmentRow": "deploytag.service.environments",
    "GcEntry": "deploytag.service.gc",
    "GcReport": "deploytag.service.gc",
    "PinReport": "deploytag.service.pins",
    "InitFile": "deploytag.service.init",
    "InitReport": "deploytag.service.init",
    "PlanResult": "deploytag.service.plan",
    "RollbackReport": "deploytag.service.rollback",
    "SleepResult": "deploytag.service.sleep",
    "EnvironmentStatus": "deploytag.service.status",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "BuildOptions",
    "BuildReport",
    "DeployOptions",
    "DeployReport",
    "DestroyOptions",
    "DestroyReport",
    "DnsOptions",
    "DnsReport",
    "EnvironmentRow",
    "EnvironmentStatus",
    "GcEntry",
    "GcOptions",
    "GcReport",
    "InitFile",
    "InitOptions",
    "InitReport",
    "LintOptions",
    "ListOptions",
    "PinOptions",
    "PinReport",
    "PlanOptions",
    "PlanResult",
    "ProgressListener",
    "ProvidersFactory",
    "RenderOptions",
    "RollbackOptions",
    "RollbackReport",
    "Runtime",
    "SilentProgress",
    "SleepOptions",
    "SleepResult",
    "StatusOptions",
    "UnpinOptions",
    "ValuesOptions",
    "WakeOptions",
    "build",
    "deploy",
    "destroy",
    "dns",
    "effective_config",
    "gc",
    "init",
    "lint",
    "lint_rules",
    "list_environments",
    "merged_values",
    "pin",
    "plan",
    "render",
    "rollback",
    "sleep",
    "status",
    "unpin",
    "wake",
]
