"""API objects (parsed JSON) to the port's records, and times to and from the wire.

Pure functions over dicts, no SDK: every field is read defensively because
status blocks are filled in by controllers over time and are often missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from deploytag.core.cost import Usage, pod_requests
from deploytag.ports.cluster import (
    ContainerState,
    EventRecord,
    LeaseInfo,
    NamespaceCondition,
    NamespaceInfo,
    PodState,
    ServiceAddress,
    WorkloadState,
)


def micro_time(seconds: float) -> str:
    """RFC 3339 with exactly six fraction digits: the only form the API's MicroTime accepts.

    (The SDK's own datetime serialisation drops the fraction when it is zero,
    which the API server rejects for Lease times.)
    """
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: Any) -> float | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _strings(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}


def namespace_info(obj: Mapping[str, Any]) -> NamespaceInfo:
    meta = _meta(obj)
    phase = (obj.get("status") or {}).get("phase") or "Active"
    if meta.get("deletionTimestamp"):
        phase = "Terminating"
    return NamespaceInfo(
        name=str(meta.get("name", "")),
        labels=_strings(meta.get("labels")),
        annotations=_strings(meta.get("annotations")),
        phase=str(phase),
        created_at=str(meta.get("creationTimestamp") or ""),
        deleting_since=str(meta.get("deletionTimestamp") or ""),
        finalizers=tuple(str(f) for f in (obj.get("spec") or {}).get("finalizers") or ()),
        conditions=tuple(
            NamespaceCondition(
                type=str(c.get("type") or ""),
                status=str(c.get("status") or ""),
                reason=str(c.get("reason") or ""),
                message=str(c.get("message") or ""),
            )
            for c in (obj.get("status") or {}).get("conditions") or ()
            if isinstance(c, dict)
        ),
    )


def lease_info(*, namespace: str, name: str, obj: Mapping[str, Any]) -> LeaseInfo:
    spec = obj.get("spec") or {}
    meta = obj.get("metadata") or {}
    renewed = parse_time(spec.get("renewTime")) or parse_time(spec.get("acquireTime")) or 0.0
    return LeaseInfo(
        namespace=namespace,
        name=name,
        holder=str(spec.get("holderIdentity") or ""),
        duration_seconds=int(spec.get("leaseDurationSeconds") or 0),
        renewed_at=renewed,
        transitions=int(spec.get("leaseTransitions") or 0),
        annotations={str(k): str(v) for k, v in (meta.get("annotations") or {}).items()},
        version=str(meta.get("resourceVersion") or ""),
    )


def workload_state(kind: str, obj: Mapping[str, Any]) -> WorkloadState:
    meta, spec, status = _meta(obj), obj.get("spec") or {}, obj.get("status") or {}
    if kind == "DaemonSet":
        desired = int(status.get("desiredNumberScheduled") or 0)
        ready = int(status.get("numberReady") or 0)
        updated = int(status.get("updatedNumberScheduled") or 0)
        available = int(status.get("numberAvailable") or 0)
        total = int(status.get("currentNumberScheduled") or 0)
    else:
        # spec.replicas defaults to 1 when left out of the manifest.
        replicas = spec.get("replicas")
        desired = 1 if replicas is None else int(replicas)
        ready = int(status.get("readyReplicas") or 0)
        updated = int(status.get("updatedReplicas") or 0)
        # StatefulSets report availableReplicas only since 1.22; fall back to ready there.
        available = int(status.get("availableReplicas", ready if kind == "StatefulSet" else 0) or 0)
        total = int(status.get("replicas") or 0)
    generation = int(meta.get("generation") or 0)
    observed = int(status.get("observedGeneration") or 0)
    conditions = {str(c.get("type")): _condition(c) for c in status.get("conditions") or [] if c.get("type")}
    return WorkloadState(
        kind=kind,
        name=str(meta.get("name", "")),
        desired=desired,
        ready=ready,
        updated=updated,
        available=available,
        observed_generation_current=observed >= generation,
        conditions=conditions,
        selector=_strings((spec.get("selector") or {}).get("matchLabels")),
        total=total,
    )


def _condition(c: Mapping[str, Any]) -> str:
    message = c.get("message") or c.get("reason") or ""
    return f"{c.get('status', '')}: {message}" if message else str(c.get("status", ""))


def service_address(obj: Mapping[str, Any]) -> ServiceAddress:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ingress = (status.get("loadBalancer") or {}).get("ingress") or []
    hosts = [str(i.get("hostname") or i.get("ip")) for i in ingress if i.get("hostname") or i.get("ip")]
    return ServiceAddress(
        name=str(_meta(obj).get("name", "")),
        type=str(spec.get("type") or "ClusterIP"),
        hostnames=tuple(hosts),
        ports=tuple(int(p["port"]) for p in spec.get("ports") or [] if p.get("port") is not None),
    )


def container_state(status: Mapping[str, Any]) -> ContainerState:
    state = status.get("state") or {}
    waiting = state.get("waiting") or {}
    # A crash-looping container is "waiting" or running again now; why it died is in lastState.
    last = (status.get("lastState") or {}).get("terminated") or {}
    terminated = state.get("terminated") or last
    exit_code, last_exit = terminated.get("exitCode"), last.get("exitCode")
    return ContainerState(
        name=str(status.get("name", "")),
        ready=bool(status.get("ready")),
        restart_count=int(status.get("restartCount") or 0),
        waiting_reason=str(waiting.get("reason") or ""),
        waiting_message=str(waiting.get("message") or ""),
        terminated_reason=str(terminated.get("reason") or ""),
        exit_code=int(exit_code) if exit_code is not None else None,
        running="running" in state,
        last_terminated_reason=str(last.get("reason") or ""),
        last_exit_code=int(last_exit) if last_exit is not None else None,
    )


def pod_state(obj: Mapping[str, Any]) -> PodState:
    meta, status = _meta(obj), obj.get("status") or {}
    conditions = {str(c.get("type")): str(c.get("status")) for c in status.get("conditions") or []}
    unschedulable = next(
        (
            str(c.get("message") or c.get("reason") or "")
            for c in status.get("conditions") or []
            if c.get("type") == "PodScheduled" and c.get("status") == "False"
        ),
        "",
    )
    # Init containers that finished fine are noise; one that fails blocks the pod and must show.
    init = [
        container_state(s)
        for s in status.get("initContainerStatuses") or []
        if ((s.get("state") or {}).get("terminated") or {}).get("exitCode") != 0
    ]
    containers = [container_state(s) for s in status.get("containerStatuses") or []]
    owner = next(
        (
            f"{ref.get('kind')}/{ref.get('name')}"
            for ref in meta.get("ownerReferences") or []
            if ref.get("controller")
        ),
        "",
    )
    unprobed = tuple(
        str(c.get("name", ""))
        for c in (obj.get("spec") or {}).get("containers") or []
        if not c.get("readinessProbe")
    )
    return PodState(
        name=str(meta.get("name", "")),
        phase=str(status.get("phase") or "Unknown"),
        ready=conditions.get("Ready") == "True",
        containers=tuple(init + containers),
        conditions=conditions,
        unschedulable_reason=unschedulable,
        owner=owner,
        unprobed_containers=unprobed,
    )


def event_record(obj: Mapping[str, Any]) -> EventRecord:
    involved = obj.get("involvedObject") or {}
    series = obj.get("series") or {}
    last_seen = (
        obj.get("lastTimestamp")
        or series.get("lastObservedTime")
        or obj.get("eventTime")
        or obj.get("firstTimestamp")
        or _meta(obj).get("creationTimestamp")
        or ""
    )
    return EventRecord(
        object_kind=str(involved.get("kind") or ""),
        object_name=str(involved.get("name") or ""),
        type=str(obj.get("type") or "Normal"),
        reason=str(obj.get("reason") or ""),
        message=str(obj.get("message") or ""),
        count=int(obj.get("count") or series.get("count") or 1),
        last_seen=str(last_seen),
    )


def workload_usage(kind: str, obj: Mapping[str, Any]) -> Usage | None:
    """What one workload keeps requested (the rules of ``Cluster.list_resource_requests``)."""
    meta, spec = _meta(obj), obj.get("spec") or {}
    if kind == "CronJob":
        job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
        replicas = 0 if spec.get("suspend") else _count(job_spec.get("parallelism"))
    elif kind == "Job":
        if any(ref.get("kind") == "CronJob" for ref in meta.get("ownerReferences") or []):
            return None
        job_spec = spec
        finished = any(
            c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
            for c in (obj.get("status") or {}).get("conditions") or []
        )
        replicas = 0 if finished or spec.get("suspend") else _count(spec.get("parallelism"))
    else:
        job_spec = spec
        replicas = _count(spec.get("replicas"))
    pod_spec = (job_spec.get("template") or {}).get("spec") or {}
    cpu, memory = pod_requests(pod_spec)
    return Usage(
        kind=kind,
        name=str(meta.get("name", "")),
        replicas=replicas,
        cpu=cpu,
        memory_bytes=memory,
        namespace=str(meta.get("namespace", "")),
    )


def _count(value: Any) -> int:
    """spec.replicas and parallelism default to 1 when left out of the manifest."""
    return 1 if value is None else int(value)
