"""The backends the cluster contract runs against, and how each is given workloads to look at.

A backend bundles a Cluster, a way to make more clients of the same cluster
(for races), a seeder that makes failing workloads appear, and read-backs for
what the port deliberately does not return (secret values, quota specs). The
real adapter's read-backs go through the SDK directly, never through the code
under test.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from deploytag.adapters.memory.cluster import MemoryCluster
from deploytag.core.cost import Usage
from deploytag.ports.cluster import (
    ContainerState,
    EventRecord,
    JobSpec,
    PodState,
    ServiceAddress,
    WorkloadState,
)

NS_PREFIX = "deploytag-contract-"
HOLD_FINALIZER = "deploytag.dev/contract-hold"
CRASH_LINES = [f"starting step {i}" for i in range(8)]


def wait_for(
    predicate: Callable[[], bool], *, timeout: float, interval: float = 0.2, fail: bool = True
) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            if fail:
                raise AssertionError(f"condition not met within {timeout}s")
            return False
        time.sleep(interval)


def time_key(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@dataclass
class Backend:
    id: str
    cluster: Any  # a Cluster; Any so backend-specific helpers stay reachable
    seed: Any
    real: bool = False
    delete_timeout: float = 10.0
    address_timeout: float = 10.0
    rollout_timeout: float = 20.0
    describe_contains: str = ""
    run_label: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    created: list[str] = field(default_factory=list)
    make_client: Callable[[], Any] | None = None
    image: str = "busybox:1.36"  # what Jobs run; the fakes read only the command
    require_node: Callable[[], Any] = lambda: None  # the real backend asks for ``real_node``

    def new_namespace_name(self) -> str:
        name = f"{NS_PREFIX}{uuid.uuid4().hex[:10]}"
        self.created.append(name)
        return name

    def new_client(self) -> Any:
        """Another client of the same cluster, as a concurrent run would have."""
        return self.make_client() if self.make_client else self.cluster

    # Read-backs and knobs; overridden per kind of backend.
    def read_secret(self, *, namespace: str, name: str) -> dict[str, str] | None:
        raise NotImplementedError

    def read_quota(self, *, namespace: str, name: str) -> dict[str, str] | None:
        raise NotImplementedError

    def has_limit_range(self, *, namespace: str, name: str) -> bool:
        raise NotImplementedError

    def hold_terminating(self, name: str) -> bool:
        """Keep the namespace Terminating once deleted (a finalizer); False if impossible."""
        raise NotImplementedError

    def cleanup(self) -> None:
        raise NotImplementedError


# ---------------------------------------------------------------------------------- memory


def play_job_script(spec: JobSpec) -> tuple[bool | None, str]:
    """The memory cluster's Jobs play their ``sh -c`` script as fakekube does (echo/exit)."""
    from fakekube.controllers import run_script

    outcome = run_script({"command": list(spec.command)})
    if outcome is None:
        return True, ""
    finished = None if outcome.exit_code is None else outcome.exit_code == 0
    return finished, outcome.log or ""


class MemoryBackend(Backend):
    def __init__(self) -> None:
        cluster = MemoryCluster()
        cluster.job_runner = play_job_script
        super().__init__(
            id="memory", cluster=cluster, seed=MemorySeeder(cluster), describe_contains="in-memory"
        )

    def read_secret(self, *, namespace: str, name: str) -> dict[str, str] | None:
        data: dict[str, str] | None = self.cluster.get_secret_data(namespace=namespace, name=name)
        return data

    def read_quota(self, *, namespace: str, name: str) -> dict[str, str] | None:
        quota: dict[str, str] | None = self.cluster.get_resource_quota(namespace=namespace, name=name)
        return quota

    def has_limit_range(self, *, namespace: str, name: str) -> bool:
        return self.cluster.get_limit_range(namespace=namespace, name=name) is not None

    def hold_terminating(self, name: str) -> bool:
        self.cluster.block_namespace_deletion(name=name)
        return True

    def cleanup(self) -> None:
        """Nothing outlives the process."""


class MemorySeeder:
    """What a real cluster's controllers would have produced, written down."""

    bad_image_ref = "registry.invalid/deploytag/contract:missing"

    def __init__(self, cluster: MemoryCluster) -> None:
        self.cluster = cluster

    def load_balancer(self, *, namespace: str, name: str, port: int) -> None:
        self.cluster.add_service(
            namespace=namespace,
            service=ServiceAddress(name=name, type="LoadBalancer", hostnames=("192.0.2.10",), ports=(port,)),
        )

    def cluster_ip(self, *, namespace: str, name: str, port: int) -> None:
        self.cluster.add_service(
            namespace=namespace, service=ServiceAddress(name=name, type="ClusterIP", ports=(port,))
        )

    def requesting_workloads(self, *, namespace: str) -> None:
        """What REQUESTING_WORKLOADS amounts to, as the port reports it."""
        for usage in REQUESTED:
            self.cluster.add_resource_requests(namespace=namespace, usage=usage)

    def _deployment(self, namespace: str, name: str) -> None:
        self.cluster.add_workload(
            namespace=namespace,
            workload=WorkloadState(
                kind="Deployment",
                name=name,
                desired=1,
                ready=0,
                updated=1,
                available=0,
                observed_generation_current=True,
                conditions={
                    "Available": "False: Deployment does not have minimum availability.",
                    "Progressing": "True: ReplicaSet is progressing.",
                },
                selector={"app": name},
            ),
        )

    def bad_image(self, *, namespace: str, name: str, image: str) -> None:
        self._deployment(namespace, name)
        pod = f"{name}-7c9f8d6b5-abcde"
        self.cluster.add_pod(
            namespace=namespace,
            pod=PodState(
                name=pod,
                phase="Pending",
                ready=False,
                containers=(
                    ContainerState(
                        name="main",
                        ready=False,
                        waiting_reason="ImagePullBackOff",
                        waiting_message=f'Back-off pulling image "{image}"',
                    ),
                ),
                conditions={"PodScheduled": "True", "Ready": "False"},
                owner=f"ReplicaSet/{name}-7c9f8d6b5",
            ),
        )
        for second, kind, reason, message in (
            (1, "Normal", "Scheduled", f"Successfully assigned {namespace}/{pod} to node-1"),
            (2, "Warning", "Failed", f'Failed to pull image "{image}": not found'),
            (3, "Normal", "BackOff", f'Back-off pulling image "{image}"'),
        ):
            self.cluster.add_event(
                namespace=namespace,
                event=EventRecord("Pod", pod, kind, reason, message, 1, f"2024-05-01T10:00:0{second}Z"),
            )

    def crash_loop(self, *, namespace: str, name: str, marker: str) -> None:
        self._deployment(namespace, name)
        pod = f"{name}-5d4c3b2a1-fghij"
        self.cluster.add_pod(
            namespace=namespace,
            pod=PodState(
                name=pod,
                phase="Running",
                ready=False,
                containers=(
                    ContainerState(
                        name="main",
                        ready=False,
                        restart_count=2,
                        waiting_reason="CrashLoopBackOff",
                        waiting_message="back-off 20s restarting failed container",
                        terminated_reason="Error",
                        exit_code=3,
                        last_terminated_reason="Error",  # as the real adapter reads lastState
                        last_exit_code=3,
                    ),
                ),
                conditions={"PodScheduled": "True", "Ready": "False"},
                owner=f"ReplicaSet/{name}-5d4c3b2a1",
            ),
            previous_logs={"main": "\n".join([*CRASH_LINES, marker])},
            logs={"main": "starting step 0"},
        )
        self.cluster.add_event(
            namespace=namespace,
            event=EventRecord(
                "Pod",
                pod,
                "Warning",
                "BackOff",
                "Back-off restarting failed container",
                3,
                "2024-05-01T10:00:00Z",
            ),
        )

    def oom_killed(self, *, namespace: str, name: str) -> None:
        self._deployment(namespace, name)
        self.cluster.add_pod(
            namespace=namespace,
            pod=PodState(
                name=f"{name}-8e7d6c5b4-pqrst",
                phase="Running",
                ready=False,
                containers=(
                    ContainerState(
                        name="main",
                        ready=False,
                        restart_count=1,
                        waiting_reason="CrashLoopBackOff",
                        waiting_message="back-off 10s restarting failed container",
                        terminated_reason="OOMKilled",
                        exit_code=137,
                    ),
                ),
                conditions={"PodScheduled": "True", "Ready": "False"},
                owner=f"ReplicaSet/{name}-8e7d6c5b4",
            ),
        )

    def unschedulable(self, *, namespace: str, name: str) -> None:
        self.cluster.add_pod(
            namespace=namespace,
            pod=PodState(
                name=f"{name}-6b5a4c3d2-klmno",
                phase="Pending",
                ready=False,
                conditions={"PodScheduled": "False"},
                unschedulable_reason="0/1 nodes are available: 1 Insufficient cpu.",
                owner=f"ReplicaSet/{name}-6b5a4c3d2",
            ),
        )


# ------------------------------------------------------------------------ the real adapter


class KubeBackend(Backend):
    """KubernetesCluster against an API server reached through a kubeconfig (fake or real)."""

    def __init__(
        self, *, id: str, kubeconfig: str, context: str | None, seeder: KubeSeeder, **kw: Any
    ) -> None:
        from deploytag.adapters.kubernetes import KubernetesCluster

        def make() -> Any:
            return KubernetesCluster(kubeconfig=kubeconfig, context=context)

        super().__init__(id=id, cluster=make(), seed=seeder, make_client=make, **kw)
        self.api = seeder.api

    def _core(self) -> Any:
        import kubernetes

        return kubernetes.client.CoreV1Api(self.api)

    def _read(self, method: str, namespace: str, name: str) -> Any:
        from kubernetes.client.exceptions import ApiException

        try:
            return getattr(self._core(), method)(name, namespace)
        except ApiException as e:
            if e.status == 404:
                return None
            raise

    def read_secret(self, *, namespace: str, name: str) -> dict[str, str] | None:
        secret = self._read("read_namespaced_secret", namespace, name)
        if secret is None:
            return None
        return {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}

    def read_quota(self, *, namespace: str, name: str) -> dict[str, str] | None:
        quota = self._read("read_namespaced_resource_quota", namespace, name)
        return None if quota is None else dict(quota.spec.hard)

    def has_limit_range(self, *, namespace: str, name: str) -> bool:
        return self._read("read_namespaced_limit_range", namespace, name) is not None

    def hold_terminating(self, name: str) -> bool:
        self._core().patch_namespace(name, {"metadata": {"finalizers": [HOLD_FINALIZER]}})
        return True

    def _release_hold(self, name: str) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            self._core().patch_namespace(name, {"metadata": {"finalizers": None}})
        except ApiException as e:
            if e.status != 404:
                raise

    def cleanup(self) -> None:
        for name in self.created:
            self._release_hold(name)
            self.cluster.delete_namespace(name=name, wait=False, timeout_seconds=0)


class KubeSeeder:
    """Creates the objects through the SDK; controllers (real or fake) do the rest."""

    def __init__(
        self, api: Any, *, bad_image_ref: str, crash_image: str, real: bool = False, oom_image: str = ""
    ) -> None:
        self.api = api
        self.bad_image_ref = bad_image_ref
        self.crash_image = crash_image
        self.real = real
        self.oom_image = oom_image or crash_image  # fakekube fails containers by image name

    def _apps(self) -> Any:
        import kubernetes

        return kubernetes.client.AppsV1Api(self.api)

    def _core(self) -> Any:
        import kubernetes

        return kubernetes.client.CoreV1Api(self.api)

    def _service(self, namespace: str, name: str, port: int, kind: str) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": {"type": kind, "selector": {"app": name}, "ports": [{"port": port, "targetPort": port}]},
        }
        self._core().create_namespaced_service(namespace, body)

    def load_balancer(self, *, namespace: str, name: str, port: int) -> None:
        self._service(namespace, name, port, "LoadBalancer")
        if self.real:
            # No cloud controller runs beside the test cluster: write the address it would
            # (through the status subresource, as one does). fakekube assigns one itself.
            status = {"status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}}
            self._core().patch_namespaced_service_status(name, namespace, status)

    def cluster_ip(self, *, namespace: str, name: str, port: int) -> None:
        self._service(namespace, name, port, "ClusterIP")

    def deployment(self, *, namespace: str, name: str, container: dict[str, Any]) -> None:
        body = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [container], "terminationGracePeriodSeconds": 0},
                },
            },
        }
        self._apps().create_namespaced_deployment(namespace, body)

    def requesting_workloads(self, *, namespace: str) -> None:
        """REQUESTING_WORKLOADS through the API; the CronJob's Job is owned by it, as its controller's are."""
        import kubernetes

        apps, batch = self._apps(), kubernetes.client.BatchV1Api(self.api)
        deployment, statefulset, job, cronjob, owned = requesting_manifests()
        apps.create_namespaced_deployment(namespace, deployment)
        apps.create_namespaced_stateful_set(namespace, statefulset)
        batch.create_namespaced_job(namespace, job)
        made = batch.create_namespaced_cron_job(namespace, cronjob)
        owned["metadata"]["ownerReferences"] = [
            {"apiVersion": "batch/v1", "kind": "CronJob", "name": "nightly", "uid": made.metadata.uid}
        ]
        batch.create_namespaced_job(namespace, owned)

    def bad_image(self, *, namespace: str, name: str, image: str) -> None:
        self.deployment(namespace=namespace, name=name, container={"name": "main", "image": image})

    def crash_loop(self, *, namespace: str, name: str, marker: str) -> None:
        script = "; ".join(f"echo '{line}'" for line in [*CRASH_LINES, marker]) + "; exit 3"
        self.deployment(
            namespace=namespace,
            name=name,
            container={"name": "main", "image": self.crash_image, "command": ["sh", "-c", script]},
        )

    def oom_killed(self, *, namespace: str, name: str) -> None:
        """dd fills a 64 MiB buffer under a 16 MiB limit; exec makes it the container's process, so
        the kernel's OOM kill ends the container (a shell would survive its child's death)."""
        self.deployment(
            namespace=namespace,
            name=name,
            container={
                "name": "main",
                "image": self.oom_image,
                "command": [
                    "sh",
                    "-c",
                    "echo filling memory; exec dd if=/dev/zero of=/dev/null bs=64M count=1",
                ],
                "resources": {"limits": {"memory": "16Mi"}, "requests": {"memory": "16Mi"}},
            },
        )

    def unschedulable(self, *, namespace: str, name: str) -> None:
        self.deployment(
            namespace=namespace,
            name=name,
            container={
                "name": "main",
                "image": self.crash_image,
                "command": ["sleep", "3600"],
                "resources": {"requests": {"cpu": "1000"}},
            },
        )


# ------------------------------------------------------- workloads that request resources (cost)

_NO_PULL = "registry.invalid/deploytag-contract/requests:1"  # never needs to run


def _pod(containers: list[dict[str, Any]], init: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": containers,
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": 0,
    }
    if init:
        spec["initContainers"] = init
    return {"metadata": {"labels": {"app": "requests"}}, "spec": spec}


def _container(
    name: str, requests: dict[str, str] | None = None, limits: dict[str, str] | None = None
) -> Any:
    resources = {k: v for k, v in (("requests", requests), ("limits", limits)) if v}
    return {"name": name, "image": _NO_PULL, "resources": resources}


def requesting_manifests() -> tuple[dict[str, Any], ...]:
    """A Deployment of 2 (a limit-only sidecar, a bigger init container), a StatefulSet asleep at 0,
    a suspended Job, a CronJob of parallelism 3 and a Job it owns (counted through the CronJob)."""
    selector = {"matchLabels": {"app": "requests"}}
    web = _pod(
        [
            _container("main", {"cpu": "250m", "memory": "256Mi"}),
            _container("sidecar", None, {"cpu": "100m", "memory": "64Mi"}),
        ],
        init=[_container("setup", {"cpu": "500m", "memory": "32Mi"})],
    )
    always = {**web, "spec": {**web["spec"], "restartPolicy": "Always"}}
    big = _pod([_container("main", {"cpu": "1", "memory": "1Gi"})])
    small = _pod([_container("main", {"cpu": "100m", "memory": "128Mi"})])
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": selector, "template": always},
    }
    statefulset = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 0,
            "serviceName": "db",
            "selector": selector,
            "template": {**big, "spec": {**big["spec"], "restartPolicy": "Always"}},
        },
    }
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "batch"},
        "spec": {"suspend": True, "parallelism": 2, "template": big},
    }
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"parallelism": 3, "template": small}}},
    }
    owned = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "nightly-manual"},
        "spec": {"suspend": True, "template": small},
    }
    return deployment, statefulset, job, cronjob, owned


MI = 1024**2
REQUESTED = [
    Usage(kind="CronJob", name="nightly", replicas=3, cpu=0.1, memory_bytes=128 * MI),
    Usage(kind="Deployment", name="web", replicas=2, cpu=0.5, memory_bytes=320 * MI),
    Usage(kind="Job", name="batch", replicas=0, cpu=1.0, memory_bytes=1024 * MI),
    Usage(kind="StatefulSet", name="db", replicas=0, cpu=1.0, memory_bytes=1024 * MI),
]
