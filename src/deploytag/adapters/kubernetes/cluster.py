"""KubernetesCluster: the Cluster port over the Kubernetes API (see ``connection``).

Namespaces, Secrets and quotas live here; Leases and workload reads in their
own modules (``leases``, ``workloads``), all sharing one lazily opened
``Connection``. Writes are create-first: the common case (first deploy) is one
request, and a 409 tells us to merge or replace instead.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from deploytag.adapters.kubernetes.connection import DEFAULT_TIMEOUT, MERGE_PATCH, Connection, resource_path
from deploytag.adapters.kubernetes.convert import namespace_info
from deploytag.adapters.kubernetes.errors import ApiConflict, ApiNotFound, Op
from deploytag.adapters.kubernetes.housekeeping import HousekeepingOps
from deploytag.adapters.kubernetes.jobs import JobOps
from deploytag.adapters.kubernetes.leases import LeaseOps
from deploytag.adapters.kubernetes.workloads import WorkloadOps
from deploytag.core.errors import RetryableClusterError
from deploytag.ports.cluster import NamespaceInfo

if TYPE_CHECKING:
    from deploytag.core.config import ClusterConfig
    from deploytag.ports.cluster import Cluster

# Namespace deletion takes seconds (finalizers empty it first); poll gently, then less often.
_POLL_FIRST, _POLL_MAX = 0.2, 2.0


class KubernetesCluster(LeaseOps, WorkloadOps, HousekeepingOps, JobOps):
    """A real cluster, reached through a kubeconfig context or the in-cluster service account."""

    def __init__(
        self,
        *,
        kubeconfig: str | None,
        context: str | None,
        request_timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        """``request_timeout`` is (connect, read) seconds per request."""
        # Nothing is loaded or imported until the first request; see Connection.
        self._conn = Connection(kubeconfig=kubeconfig, context=context, timeout=request_timeout)

    @classmethod
    def from_config(cls, *, config: ClusterConfig) -> KubernetesCluster:
        return cls(kubeconfig=config.kubeconfig, context=config.context)

    def describe(self) -> str:
        return self._conn.describe()

    # ------------------------------------------------------------------ namespaces

    def get_namespace(self, *, name: str) -> NamespaceInfo | None:
        try:
            return namespace_info(self._conn.json(_ns_op("get", name), "GET", _ns_path(name)))
        except ApiNotFound:
            return None

    def ensure_namespace(
        self, *, name: str, labels: Mapping[str, str], annotations: Mapping[str, str]
    ) -> NamespaceInfo:
        metadata = {"name": name, "labels": dict(labels), "annotations": dict(annotations)}
        try:
            created = self._conn.json(_ns_op("create", name), "POST", _ns_path(), body={"metadata": metadata})
            return namespace_info(created)
        except ApiConflict:
            pass
        patched = self._patch_namespace(name, {"labels": dict(labels), "annotations": dict(annotations)})
        if patched.phase == "Terminating":
            raise RetryableClusterError(
                f"namespace {name} is being deleted",
                hint="wait until it is gone (deploytag destroy waits), then run again",
            )
        return patched

    def patch_namespace_annotations(
        self, *, name: str, annotations: Mapping[str, str | None]
    ) -> NamespaceInfo:
        # In a JSON merge patch a null value deletes the key, which is what None means here.
        return self._patch_namespace(name, {"annotations": dict(annotations)})

    def _patch_namespace(self, name: str, metadata: Mapping[str, Any]) -> NamespaceInfo:
        patched = self._conn.json(
            _ns_op("patch", name),
            "PATCH",
            _ns_path(name),
            body={"metadata": metadata},
            content_type=MERGE_PATCH,
        )
        return namespace_info(patched)

    def list_namespaces(self, *, label_selector: str) -> list[NamespaceInfo]:
        items = self._conn.items(_ns_op("list", ""), _ns_path(), query={"labelSelector": label_selector})
        return sorted((namespace_info(item) for item in items), key=lambda n: n.name)

    def delete_namespace(self, *, name: str, wait: bool, timeout_seconds: float) -> bool:
        deadline = time.monotonic() + timeout_seconds
        try:
            self._conn.json(
                _ns_op("delete", name),
                "DELETE",
                _ns_path(name),
                body={"propagationPolicy": "Background"},
            )
        except ApiNotFound:
            return True
        except ApiConflict:
            pass  # already Terminating: servers before v1.36 refuse a second delete with 409
        if not wait:
            return True
        interval = _POLL_FIRST
        while True:
            if self.get_namespace(name=name) is None:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(interval, remaining))
            interval = min(interval * 2, _POLL_MAX)

    # --------------------------------------------------------------------- secrets

    def apply_secret(
        self,
        *,
        namespace: str,
        name: str,
        data: Mapping[str, str],
        labels: Mapping[str, str],
        annotations: Mapping[str, str],
    ) -> None:
        # base64 ``data`` rather than ``stringData``: a replace then holds exactly these
        # keys on every server, and the values never appear as plain text in the body.
        encoded = {k: base64.b64encode(v.encode()).decode("ascii") for k, v in data.items()}
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": name, "labels": dict(labels), "annotations": dict(annotations)},
            "data": encoded,
        }
        # Error bodies may echo the request, so the encoded forms are scrubbed too.
        secrets = (*data.values(), *encoded.values())
        self._create_or_replace(body, namespace, "secrets", secrets=secrets)

    def get_secret_keys(self, *, namespace: str, name: str) -> list[str] | None:
        op = Op(verb="get", resource="secrets", name=name, namespace=namespace)
        try:
            secret = self._conn.json(op, "GET", resource_path("v1", "secrets", name, namespace=namespace))
        except ApiNotFound:
            return None
        return sorted(secret.get("data") or {})

    def read_secret_values(self, *, namespace: str, name: str, keys: Sequence[str]) -> dict[str, str] | None:
        op = Op(verb="get", resource="secrets", name=name, namespace=namespace)
        try:
            secret = self._conn.json(op, "GET", resource_path("v1", "secrets", name, namespace=namespace))
        except ApiNotFound:
            return None
        data = secret.get("data") or {}
        return {k: base64.b64decode(data[k]).decode() for k in keys if k in data}

    # ---------------------------------------------------------------------- quotas

    def apply_resource_quota(
        self, *, namespace: str, name: str, hard: Mapping[str, str], labels: Mapping[str, str]
    ) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": name, "labels": dict(labels)},
            "spec": {"hard": dict(hard)},
        }
        self._create_or_replace(body, namespace, "resourcequotas")

    def apply_limit_range(
        self,
        *,
        namespace: str,
        name: str,
        default_limits: Mapping[str, str],
        default_requests: Mapping[str, str],
        labels: Mapping[str, str],
    ) -> None:
        limit = {
            "type": "Container",
            "default": dict(default_limits),
            "defaultRequest": dict(default_requests),
        }
        body = {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": name, "labels": dict(labels)},
            "spec": {"limits": [limit]},
        }
        self._create_or_replace(body, namespace, "limitranges")

    def delete_quotas(self, *, namespace: str, name: str) -> None:
        for resource in ("resourcequotas", "limitranges"):
            op = Op(verb="delete", resource=resource, name=name, namespace=namespace)
            try:
                self._conn.json(op, "DELETE", resource_path("v1", resource, name, namespace=namespace))
            except ApiNotFound:
                continue

    def _create_or_replace(
        self,
        body: dict[str, Any],
        namespace: str,
        resource: str,
        *,
        secrets: tuple[str, ...] = (),
    ) -> None:
        """Create, or on 409 replace; a delete in between makes us create again."""
        name = body["metadata"]["name"]
        for _ in range(3):
            try:
                self._conn.json(
                    Op(verb="create", resource=resource, name=name, namespace=namespace, secrets=secrets),
                    "POST",
                    resource_path("v1", resource, namespace=namespace),
                    body=body,
                )
                return
            except ApiConflict:
                pass
            try:
                # No resourceVersion: the desired state wins over whatever is there.
                self._conn.json(
                    Op(verb="update", resource=resource, name=name, namespace=namespace, secrets=secrets),
                    "PUT",
                    resource_path("v1", resource, name, namespace=namespace),
                    body=body,
                )
                return
            except ApiNotFound:
                continue  # deleted since our create; a missing namespace fails the next create
        raise RetryableClusterError(
            f"{resource}/{name} in namespace {namespace} kept appearing and disappearing",
            hint="another client is creating and deleting it; stop it or run again",
        )


def _ns_op(verb: str, name: str) -> Op:
    return Op(verb=verb, resource="namespaces", name=name)


def _ns_path(name: str = "") -> str:
    return resource_path("v1", "namespaces", name)


if TYPE_CHECKING:

    def _implements_the_port(cluster: KubernetesCluster) -> Cluster:
        return cluster  # mypy checks the class against the Cluster Protocol here
