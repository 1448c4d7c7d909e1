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
    DeployOptions,
    DestroyOptions,
    ListOptions,
    PlanOptions,
    RollbackOptions,
    StatusOptions,
)
from deploytag.api.runtime import ProvidersFactory, Runtime

if TYPE_CHECKING:
    from deploytag.api.calls import deploy, destroy, list_environments, plan, rollback, status
    from deploytag.ports.progress import ProgressListener, SilentProgress
    from deploytag.service.deploy import DeployReport
    from deploytag.service.destroy import DestroyReport
    from deploytag.service.environments import EnvironmentRow
    from deploytag.service.plan import PlanResult
    from deploytag.service.rollback import RollbackReport
    from deploytag.service.status import EnvironmentStatus

# Imported on first use: `plan` then never imports the deploy, destroy or rollback services
# (nor what they import), and a controller pays only for the calls it makes.
_LAZY = {
    "deploy": "deploytag.api.calls",
    "destroy": "deploytag.api.calls",
    "list_environments": "deploytag.api.calls",
    "plan": "deploytag.api.calls",
    "rollback": "deploytag.api.calls",
    "status": "deploytag.api.calls",
    "ProgressListener": "deploytag.ports.progress",
    "SilentProgress": "deploytag.ports.progress",
    "DeployReport": "deploytag.service.deploy",
    "DestroyReport": "deploytag.service.destroy",
    "EnvironmentRow": "deploytag.service.environments",
    "PlanResult": "deploytag.service.plan",
    "RollbackReport": "deploytag.service.rollback",
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
    "DeployOptions",
    "DeployReport",
    "DestroyOptions",
    "DestroyReport",
    "EnvironmentRow",
    "EnvironmentStatus",
    "ListOptions",
    "PlanOptions",
    "PlanResult",
    "ProgressListener",
    "ProvidersFactory",
    "RollbackOptions",
    "RollbackReport",
    "Runtime",
    "SilentProgress",
    "StatusOptions",
    "deploy",
    "destroy",
    "list_environments",
    "plan",
    "rollback",
    "status",
]
