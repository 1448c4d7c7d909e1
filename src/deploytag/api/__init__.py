"""DeployTag's public API: what the CLI and a controller call.

Each call takes a ``Runtime`` (streams, environment variables, clock, repository,
providers) and a frozen options record, and returns the typed record the CLI
prints with ``--output json`` (``to_dict()`` gives that JSON). Example::

    from deploytag import api

    runtime = api.Runtime.from_process(repo=Path("examples/guestbook"))
    result = api.plan(runtime=runtime, options=api.PlanOptions(branch="feature/x"))
"""

from __future__ import annotations

from deploytag.api.calls import deploy, destroy, init, list_environments, plan, rollback, status
from deploytag.api.options import (
    DeployOptions,
    DestroyOptions,
    InitOptions,
    ListOptions,
    PlanOptions,
    RollbackOptions,
    StatusOptions,
)
from deploytag.api.runtime import ProvidersFactory, Runtime
from deploytag.api.sleep import SleepOptions, WakeOptions, sleep, wake
from deploytag.ports.progress import ProgressListener, SilentProgress
from deploytag.service.deploy import DeployReport
from deploytag.service.destroy import DestroyReport
from deploytag.service.environments import EnvironmentRow
from deploytag.service.init import InitFile, InitReport
from deploytag.service.plan import PlanResult
from deploytag.service.rollback import RollbackReport
from deploytag.service.sleep import SleepResult
from deploytag.service.status import EnvironmentStatus

__all__ = [
    "DeployOptions",
    "DeployReport",
    "DestroyOptions",
    "DestroyReport",
    "EnvironmentRow",
    "EnvironmentStatus",
    "InitFile",
    "InitOptions",
    "InitReport",
    "ListOptions",
    "PlanOptions",
    "PlanResult",
    "ProgressListener",
    "ProvidersFactory",
    "RollbackOptions",
    "RollbackReport",
    "Runtime",
    "SilentProgress",
    "SleepOptions",
    "SleepResult",
    "StatusOptions",
    "WakeOptions",
    "deploy",
    "destroy",
    "init",
    "list_environments",
    "plan",
    "rollback",
    "sleep",
    "status",
    "wake",
]
