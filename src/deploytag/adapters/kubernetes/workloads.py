"""Reading what runs in an environment: workloads, services, and the failure digest."""

from __future__ import annotations

from deploytag.adapters.kubernetes.connection import Connection, resource_path
from deploytag.adapters.kubernetes.convert import (
    event_record,
    parse_time,
    pod_state,
    service_address,
    workload_state,
    workload_usage,
)
from deploytag.adapters.kubernetes.errors import Op
from deploytag.core.cost import Usage
from deploytag.core.errors import DeployTagError
from deploytag.ports.cluster import ContainerState, Diagnostics, PodState, ServiceAddress, WorkloadState

_WORKLOAD_KINDS = (
    ("Deployment", "deployments"),
    ("StatefulSet", "statefulsets"),
    ("DaemonSet", "daemonsets"),
)

# What holds resource requests for the cost estimate: (kind, resource, API group/version).
_REQUESTING_KINDS = (
    ("Deployment", "deployments", "apps/v1"),
    ("StatefulSet", "statefulsets", "apps/v1"),
    ("Job", "jobs", "batch/v1"),
    ("CronJob", "cronjobs", "batch/v1"),
)


class WorkloadOps:
    _conn: Connection

    def list_workloads(self, *, namespace: str) -> list[WorkloadState]:
        found: list[WorkloadState] = []
        for kind, resource in _WORKLOAD_KINDS:
            op = Op(verb="list", resource=resource, namespace=namespace, group="apps")
            path = resource_path("apps/v1", resource, namespace=namespace)
            found += [workload_state(kind, item) for item in self._conn.items(op, path)]
        return sorted(found, key=lambda w: (w.kind, w.name))

    def list_resource_requests(self, *, namespace: str | None) -> list[Usage]:
        found: list[Usage] = []
        for kind, resource, api_version in _REQUESTING_KINDS:
            group = api_version.partition("/")[0]
            op = Op(verb="list", resource=resource, namespace=namespace or "", group=group)
            # Without a namespace: the list across all namespaces.
            items = self._conn.items(op, resource_path(api_version, resource, namespace=namespace or ""))
            found += [u for u in (workload_usage(kind, item) for item in items) if u is not None]
        return sorted(found, key=lambda u: (u.namespace, u.kind, u.name))

    def list_services(self, *, namespace: str) -> list[ServiceAddress]:
        op = Op(verb="list", resource="services", namespace=namespace)
        items = self._conn.items(op, resource_path("v1", "services", namespace=namespace))
        return sorted((service_address(item) for item in items), key=lambda s: s.name)

    def collect_diagnostics(self, *, namespace: str, log_lines: int) -> Diagnostics:
        pods_op = Op(verb="list", resource="pods", namespace=namespace)
        pods = sorted(
            (
                pod_state(p)
                for p in self._conn.items(pods_op, resource_path("v1", "pods", namespace=namespace))
            ),
            key=lambda p: p.name,
        )
        events_op = Op(verb="list", resource="events", namespace=namespace)
        events = sorted(
            (
                event_record(e)
                for e in self._conn.items(events_op, resource_path("v1", "events", namespace=namespace))
            ),
            key=lambda e: parse_time(e.last_seen) or 0.0,
        )
        logs: dict[str, str] = {}
        for pod in pods:
            for container in pod.containers:
                if container.ready and container.restart_count == 0:
                    continue
                text = self._logs(namespace=namespace, pod=pod, container=container, lines=log_lines)
                if text is not None:
                    logs[f"{pod.name}/{container.name}"] = text
        return Diagnostics(
            workloads=self.list_workloads(namespace=namespace), pods=pods, events=events, logs=logs
        )

    def _logs(self, *, namespace: str, pod: PodState, container: ContainerState, lines: int) -> str | None:
        """The container's own last lines: of the crashed run if it restarted, else of the current one.

        Best effort: a digest without logs still helps, so a refusal becomes a
        note rather than an error, and a container that never started has none.
        """
        op = Op(verb="get", resource="pods/log", name=pod.name, namespace=namespace)
        # Restarted: the run that died (previous) says why; a real kubelet has usually started
        # the next run already, which may not have logged yet. The current run's lines when the
        # previous run left none (or its log is gone).
        attempts = [True, False] if container.restart_count > 0 else [False]
        problem = ""
        for previous in attempts:
            try:
                text = self._conn.text(
                    op,
                    resource_path("v1", "pods", pod.name, namespace=namespace, subresource="log"),
                    query={"container": container.name, "tailLines": max(lines, 1), "previous": previous},
                )
            except DeployTagError as e:
                problem = e.message
                continue
            if text.strip() or not previous:
                return text
            problem = "the previous run logged nothing"
        if container.waiting_reason and container.restart_count == 0:
            return None  # ContainerCreating, ImagePullBackOff: nothing has run, so nothing logged
        return f"(logs unavailable: {problem})"
