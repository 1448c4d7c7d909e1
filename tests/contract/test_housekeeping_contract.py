"""The Cluster port's scaling and housekeeping calls, on memory, fakekube and the real API server.

What sleep/wake and the orphan sweep rely on: the scale subresource sets spec.replicas;
Leases and Secrets are listed by label (Secrets without their values) and deleted only as
asked; a ConfigMap with a custom finalizer holds a terminating namespace until its
finalizers are removed; a namespace held by a metadata finalizer goes once finalized.
"""

from __future__ import annotations

from typing import Any

import pytest
from cluster_backends import Backend, KubeBackend, wait_for

from deploytag.core.errors import NotFoundError
from deploytag.ports.cluster import ENVIRONMENT_SELECTOR, ObjectRef, WorkloadState

HOLD = "example.com/hold"


def _workload(backend: Backend, namespace: str, kind: str, name: str, replicas: int) -> None:
    if backend.id == "memory":
        backend.cluster.add_workload(
            namespace=namespace,
            workload=WorkloadState(kind, name, replicas, 0, 0, 0, True),
        )
        return
    assert isinstance(backend, KubeBackend)  # fakeapi and real reach an API server
    import kubernetes

    labels = {"app": name}
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "x"}]}},
    }
    apps = kubernetes.client.AppsV1Api(backend.api)
    if kind == "Deployment":
        apps.create_namespaced_deployment(namespace, {"metadata": {"name": name}, "spec": spec})
    else:
        apps.create_namespaced_stateful_set(
            namespace, {"metadata": {"name": name}, "spec": {**spec, "serviceName": name}}
        )


def _held_config_map(backend: Backend, namespace: str) -> None:
    if backend.id == "memory":
        ref = ObjectRef("v1", "ConfigMap", "configmaps", namespace, "held", (HOLD,))
        backend.cluster.add_object(ref=ref)
        return
    assert isinstance(backend, KubeBackend)  # fakeapi and real reach an API server
    import kubernetes

    kubernetes.client.CoreV1Api(backend.api).create_namespaced_config_map(
        namespace, {"metadata": {"name": "held", "finalizers": [HOLD]}}
    )


def test_scale_workload_sets_spec_replicas(backend: Backend, namespace: str) -> None:
    cluster = backend.cluster
    _workload(backend, namespace, "Deployment", "web", 3)
    _workload(backend, namespace, "StatefulSet", "db", 2)
    cluster.scale_workload(namespace=namespace, kind="Deployment", name="web", replicas=0)
    cluster.scale_workload(namespace=namespace, kind="StatefulSet", name="db", replicas=0)
    desired = {(w.kind, w.name): w.desired for w in cluster.list_workloads(namespace=namespace)}
    assert desired == {("Deployment", "web"): 0, ("StatefulSet", "db"): 0}
    cluster.scale_workload(namespace=namespace, kind="Deployment", name="web", replicas=3)
    desired = {(w.kind, w.name): w.desired for w in cluster.list_workloads(namespace=namespace)}
    assert desired[("Deployment", "web")] == 3
    with pytest.raises(NotFoundError):
        cluster.scale_workload(namespace=namespace, kind="Deployment", name="absent", replicas=1)


def test_leases_are_listed_by_label_and_deleted_only_at_the_version_read(
    backend: Backend, namespace: str
) -> None:
    cluster = backend.cluster
    taken = cluster.try_acquire_lease(
        namespace=namespace, name="deploytag-x", holder="run-1", duration_seconds=30, now=1000.0
    )
    assert taken is not None
    listed = cluster.list_leases(namespace=namespace, label_selector=ENVIRONMENT_SELECTOR)
    assert [(x.name, x.holder) for x in listed] == [("deploytag-x", "run-1")]
    assert cluster.list_leases(namespace=namespace, label_selector="app.kubernetes.io/managed-by=other") == []
    renewed = cluster.try_acquire_lease(
        namespace=namespace, name="deploytag-x", holder="run-1", duration_seconds=30, now=1010.0
    )
    assert renewed is not None and renewed.version != taken.version
    assert cluster.delete_lease(namespace=namespace, name="deploytag-x", version=taken.version) is False
    assert cluster.get_lease(namespace=namespace, name="deploytag-x") is not None
    assert cluster.delete_lease(namespace=namespace, name="deploytag-x", version=renewed.version) is True
    assert cluster.get_lease(namespace=namespace, name="deploytag-x") is None
    assert cluster.delete_lease(namespace=namespace, name="deploytag-x", version=renewed.version) is False


def test_secrets_are_listed_by_label_without_values_and_deleted(backend: Backend, namespace: str) -> None:
    cluster = backend.cluster
    labels = {"app.kubernetes.io/managed-by": "deploytag", "deploytag.dev/job": "kaniko"}
    cluster.apply_secret(
        namespace=namespace, name="kaniko-1-docker", data={"k": "s3cret"}, labels=labels, annotations={}
    )
    cluster.apply_secret(namespace=namespace, name="someone-else", data={"k": "v"}, labels={}, annotations={})
    found = cluster.list_secrets(namespace=namespace, label_selector="deploytag.dev/job=kaniko")
    assert [s.name for s in found] == ["kaniko-1-docker"]
    assert found[0].labels["deploytag.dev/job"] == "kaniko" and found[0].created_at
    assert "s3cret" not in repr(found)
    cluster.delete_secret(namespace=namespace, name="kaniko-1-docker")
    cluster.delete_secret(namespace=namespace, name="kaniko-1-docker")  # absent: fine
    assert cluster.get_secret_keys(namespace=namespace, name="kaniko-1-docker") is None
    assert cluster.get_secret_keys(namespace=namespace, name="someone-else") == ["k"]


def test_a_finalizer_holds_a_terminating_namespace_until_removed(backend: Backend, namespace: str) -> None:
    cluster = backend.cluster
    _held_config_map(backend, namespace)
    cluster.delete_namespace(name=namespace, wait=False, timeout_seconds=0)

    def held() -> list[ObjectRef]:
        return [r for r in cluster.list_namespace_contents(namespace=namespace) if r.finalizers]

    wait_for(lambda: len(held()) == 1, timeout=backend.delete_timeout)
    (ref,) = held()
    assert (ref.api_version, ref.kind, ref.name, ref.finalizers) == ("v1", "ConfigMap", "held", (HOLD,))
    info = cluster.get_namespace(name=namespace)
    assert info is not None and info.phase == "Terminating" and info.deleting_since
    if backend.id != "memory":  # the namespace controller says what holds it
        wait_for(
            lambda: any(
                c.type == "NamespaceFinalizersRemaining" and c.status == "True" and HOLD in c.message
                for c in (cluster.get_namespace(name=namespace) or info).conditions
            ),
            timeout=backend.delete_timeout,
        )
    cluster.remove_finalizers(ref=ref)
    wait_for(lambda: cluster.get_namespace(name=namespace) is None, timeout=backend.delete_timeout)


def test_finalize_namespace_releases_a_namespace_held_by_its_own_finalizer(
    backend: Backend, namespace: str
) -> None:
    cluster = backend.cluster
    assert backend.hold_terminating(namespace)
    cluster.delete_namespace(name=namespace, wait=False, timeout_seconds=0)
    info = cluster.get_namespace(name=namespace)
    assert info is not None and info.phase == "Terminating"
    cluster.finalize_namespace(name=namespace)
    wait_for(lambda: cluster.get_namespace(name=namespace) is None, timeout=backend.delete_timeout)
    assert cluster.finalize_namespace(name=namespace) is None  # gone: nothing to do


def test_record_event_about_a_namespace(backend: Backend, namespace: str) -> None:
    backend.cluster.record_event(
        namespace="", kind="Namespace", name=namespace, reason="ForceFinalized", message="by user:test: stuck"
    )
    if backend.id == "memory":
        events = backend.cluster.recorded_events
    else:
        assert isinstance(backend, KubeBackend)
        import kubernetes

        listed = kubernetes.client.CoreV1Api(backend.api).list_namespaced_event(
            "default", field_selector=f"involvedObject.name={namespace}"
        )
        events = listed.items
    reasons = [getattr(e, "reason", "") for e in events if getattr(e, "object_name", namespace) == namespace]
    assert reasons == ["ForceFinalized"]
