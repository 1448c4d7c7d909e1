"""`deploytag sleep` / `wake`: scale an environment's workloads to zero and back, exactly.

The replicas each Deployment and StatefulSet had are recorded on the namespace
(annotation ``deploytag.dev/sleeping``: ``{"since", "by", "replicas": {"Deployment/web": 2}}``)
before anything is scaled, so a run killed half way is finished by the next one. Sleeping
twice keeps the first record (the original replicas); waking an awake environment does
nothing. DNS, the database, Secrets and the release stay as they are. DaemonSets have no
replica count and keep running.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import msgspec

from deploytag.capabilities.context import annotation, dumps
from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig
from deploytag.core.errors import NotFoundError, PlanError
from deploytag.core.records import asdict
from deploytag.core.timestamps import rfc3339
from deploytag.ports.cluster import MANAGED_BY_LABEL, MANAGED_BY_VALUE, NamespaceInfo
from deploytag.ports.providers import Providers
from deploytag.service.resolve import target_for

SLEEP_SCHEMA = "deploytag.sleep/v1"
SLEEPING = annotation("sleeping")
SCALABLE = ("Deployment", "StatefulSet")


class ScaledWorkload(msgspec.Struct, frozen=True):
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


def sleep_record(annotations: Any) -> dict[str, Any] | None:
    """The sleeping record on a namespace, or None when it is awake (or the record is unreadable)."""
    text = annotations.get(SLEEPING)
    if not text:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("replicas"), dict):
        return None
    return record


def sleep_environment(
    *, loaded: LoadedConfig, providers: Providers, ref: BranchRef, actor: str = ""
) -> SleepResult:
    """Record every Deployment's and StatefulSet's replicas on the namespace, then scale them to 0.

    Idempotent: an environment already asleep keeps its recorded replicas (workloads
    found running again are scaled down and added to the record). Raises NotFoundError
    (exit 13) when the branch has no environment.
    """
    cluster = providers.cluster
    ns = _environment(loaded, providers, ref)
    existing = sleep_record(ns.annotations)
    record = dict(existing or {"since": rfc3339(providers.clock.now()), "by": actor, "replicas": {}})
    replicas: dict[str, int] = {k: int(v) for k, v in record["replicas"].items()}
    running = [w for w in cluster.list_workloads(namespace=ns.name) if w.kind in SCALABLE and w.desired > 0]
    for w in running:
        replicas.setdefault(f"{w.kind}/{w.name}", w.desired)
    record["replicas"] = replicas  # a new dict: ``existing`` stays as read, for the comparison below
    # Recorded before scaling: a run killed in between is finished by the next, and never
    # records 0 as someone's original count.
    if existing != record:
        cluster.patch_namespace_annotations(name=ns.name, annotations={SLEEPING: dumps(record)})
    scaled = []
    for w in running:
        cluster.scale_workload(namespace=ns.name, kind=w.kind, name=w.name, replicas=0)
        scaled.append(ScaledWorkload(kind=w.kind, name=w.name, before=w.desired, after=0))
    return SleepResult(
        schema=SLEEP_SCHEMA,
        action="sleep",
        branch=ref.branch,
        namespace=ns.name,
        outcome="changed" if scaled or existing != record else "unchanged",
        sleeping=True,
        since=str(record.get("since", "")),
        workloads=scaled,
    )


def wake_environment(
    *, loaded: LoadedConfig, providers: Providers, ref: BranchRef, actor: str = ""
) -> SleepResult:
    """Scale each recorded workload back to its recorded replicas, then drop the record.

    An awake environment (no record) is left alone: outcome "unchanged". A workload
    scaled by someone else since (no longer at 0) keeps what it has; one deleted since
    is skipped.
    """
    del actor  # waking leaves no mark: the record is removed
    cluster = providers.cluster
    ns = _environment(loaded, providers, ref)
    record = sleep_record(ns.annotations)
    result = SleepResult(
        schema=SLEEP_SCHEMA,
        action="wake",
        branch=ref.branch,
        namespace=ns.name,
        outcome="unchanged",
        sleeping=False,
    )
    if record is None:
        if SLEEPING in ns.annotations:  # unreadable: drop it rather than stay "asleep" forever
            cluster.patch_namespace_annotations(name=ns.name, annotations={SLEEPING: None})
            result.outcome = "changed"
        return result
    current = {f"{w.kind}/{w.name}": w for w in cluster.list_workloads(namespace=ns.name)}
    for key, wanted in sorted(record["replicas"].items()):
        w = current.get(key)
        if w is None or w.desired != 0:
            continue
        cluster.scale_workload(namespace=ns.name, kind=w.kind, name=w.name, replicas=int(wanted))
        result.workloads.append(ScaledWorkload(kind=w.kind, name=w.name, before=0, after=int(wanted)))
    # Dropped only once every workload is back: a wake killed half way is finished by the next.
    cluster.patch_namespace_annotations(name=ns.name, annotations={SLEEPING: None})
    result.outcome = "changed"
    return result


def _environment(loaded: LoadedConfig, providers: Providers, ref: BranchRef) -> NamespaceInfo:
    names = target_for(ref, loaded).names
    if names is None:
        raise NotFoundError(
            f"branch {ref.branch!r} matches no deploy rule, so it has no environment",
            hint="see branches.previews and branches.permanent in deploytag.yaml",
        )
    ns = providers.cluster.get_namespace(name=names.namespace)
    if ns is None:
        raise NotFoundError(
            f"branch {ref.branch!r} has no environment (namespace {names.namespace} does not exist)",
            hint=f"deploy it with: deploytag deploy --branch {ref.branch}",
        )
    if ns.labels.get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE:
        raise PlanError(
            f"namespace {ns.name} is not managed by DeployTag; refusing to scale it",
            hint="sleep and wake act on DeployTag's environments only",
        )
    if ns.phase == "Terminating":
        raise PlanError(
            f"namespace {ns.name} is being deleted", hint="nothing to sleep or wake; see deploytag status"
        )
    return ns
