"""`deploytag sleep` / `wake`: scale an environment's workloads to zero and back, exactly.

The replicas each Deployment and StatefulSet had are recorded on the namespace
(annotation ``deploytag.dev/sleeping``: JSON {"Deployment/web": 2, ...}) before anything
is scaled, so a run killed half way is finished by the next one. Sleeping twice keeps
the first record (the original replicas); waking an awake environment does nothing.
DNS, the database, Secrets and the release stay as they are.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig
from deploytag.ports.providers import Providers

SLEEP_SCHEMA = "deploytag.sleep/v1"


@dataclass(frozen=True)
class ScaledWorkload:
    kind: str  # Deployment or StatefulSet
    name: str
    before: int  # spec.replicas found
    after: int  # spec.replicas set (0 when sleeping, the recorded count when waking)


@dataclass
class SleepResult:
    """What sleep or wake did; ``to_dict()`` is the ``--output json`` document."""

    schema: str
    action: str  # "sleep" or "wake"
    branch: str
    namespace: str
    outcome: str  # "changed" or "unchanged"
    sleeping: bool  # the state afterwards
    since: str = ""  # when it was put to sleep (RFC 3339), while sleeping
    workloads: list[ScaledWorkload] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sleep_environment(
    *, loaded: LoadedConfig, providers: Providers, ref: BranchRef, actor: str = ""
) -> SleepResult:
    """Record every Deployment's and StatefulSet's replicas on the namespace, then scale them to 0.

    Idempotent: an environment already asleep keeps its recorded replicas (workloads
    found running again are scaled down and added to the record). Raises NotFoundError
    (exit 13) when the branch has no environment.
    """
    raise NotImplementedError


def wake_environment(
    *, loaded: LoadedConfig, providers: Providers, ref: BranchRef, actor: str = ""
) -> SleepResult:
    """Scale each recorded workload back to its recorded replicas, then drop the record.

    An awake environment (no record) is left alone: outcome "unchanged".
    """
    raise NotImplementedError
