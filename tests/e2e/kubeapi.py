"""What the e2e tests read and write on the real cluster, straight through its REST API.

Tests check DeployTag's work by listing the API server themselves, never by trusting its
report. ``Kube.store`` keeps the small get/list/create interface the tests used with the
imitation API server (tests/fakekube), so a test reads the same on either.

The official ``kubernetes`` client only loads the kubeconfig (client certificates, CA);
requests are plain REST paths, so any resource is reachable without a typed API class.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes import config as kube_config
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

# plural -> API prefix (group/version); everything the e2e tests look at.
_PREFIX = {
    "namespaces": "/api/v1",
    "secrets": "/api/v1",
    "services": "/api/v1",
    "pods": "/api/v1",
    "events": "/api/v1",
    "configmaps": "/api/v1",
    "serviceaccounts": "/api/v1",
    "resourcequotas": "/api/v1",
    "limitranges": "/api/v1",
    "persistentvolumeclaims": "/api/v1",
    "deployments": "/apis/apps/v1",
    "statefulsets": "/apis/apps/v1",
    "replicasets": "/apis/apps/v1",
    "jobs": "/apis/batch/v1",
    "leases": "/apis/coordination.k8s.io/v1",
    "ingresses": "/apis/networking.k8s.io/v1",
    "poddisruptionbudgets": "/apis/policy/v1",
}
_KINDS = {
    "Namespace": "namespaces",
    "Service": "services",
    "Secret": "secrets",
    "Lease": "leases",
    "ConfigMap": "configmaps",
    "Deployment": "deployments",
}
_CLUSTER_SCOPED = {"namespaces"}


def _path(resource: str, namespace: str | None, name: str | None = None) -> str:
    prefix = _PREFIX[resource]
    path = prefix if resource in _CLUSTER_SCOPED or not namespace else f"{prefix}/namespaces/{namespace}"
    path += f"/{resource}"
    return f"{path}/{name}" if name else path


@dataclass
class Store:
    """get / list / create as tests/fakekube's store has them, on the real API server."""

    api: ApiClient

    def request(self, method: str, path: str, body: Any = None, content_type: str = "") -> Any:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        response = self.api.request(
            method,
            self.api.configuration.host + path,
            headers=headers,
            body=body,
            _preload_content=False,
            _request_timeout=30,
        )
        data = response.data
        return json.loads(data) if data else None

    def get(self, resource: str, namespace: str | None, name: str) -> Any:
        """The object as JSON, or None when the API says 404."""
        try:
            found = self.request("GET", _path(resource, namespace, name))
        except ApiException as e:
            if e.status == 404:
                return None
            raise
        return found

    def list(self, resource: str, namespace: str | None = None) -> list[dict[str, Any]]:
        try:
            items: list[dict[str, Any]] = self.request("GET", _path(resource, namespace))["items"]
        except ApiException as e:
            if e.status == 404:  # the namespace is gone
                return []
            raise
        return items

    def create(self, obj: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
        resource = _KINDS[obj["kind"]]
        ns = namespace or obj.get("metadata", {}).get("namespace")
        created: dict[str, Any] = self.request("POST", _path(resource, ns), body=obj)
        return created

    def delete(self, resource: str, namespace: str | None, name: str) -> None:
        try:
            self.request("DELETE", _path(resource, namespace, name))
        except ApiException as e:
            if e.status != 404:
                raise

    def patch_status(self, resource: str, namespace: str, name: str, patch: dict[str, Any]) -> None:
        self.request(
            "PATCH",
            _path(resource, namespace, name) + "/status",
            body=patch,
            content_type="application/merge-patch+json",
        )


@dataclass
class Kube:
    """The real cluster as the e2e tests see it: its kubeconfig, API URL and a store."""

    kubeconfig: Path
    store: Store = field(init=False)
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.store = Store(kube_config.new_client_from_config(config_file=str(self.kubeconfig)))
        self.url = str(self.store.api.configuration.host)
        # The kubeconfig spells the server as it was written; tests rewrite that spelling.
        spelled = yaml.safe_load(self.kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
        self.url = str(spelled)

    def namespaces(self, prefix: str) -> list[str]:
        return sorted(
            n["metadata"]["name"]
            for n in self.store.list("namespaces")
            if n["metadata"]["name"].startswith(prefix) and "deletionTimestamp" not in n["metadata"]
        )

    def release_records(self, namespace: str) -> list[str]:
        """Helm's release records (one Secret per revision): what `helm upgrade` writes."""
        return sorted(
            s["metadata"]["name"]
            for s in self.store.list("secrets", namespace)
            if s["metadata"]["name"].startswith("sh.helm.release.v1.")
        )


class LoadBalancerController:
    """Gives LoadBalancer Services an address, as a cloud controller would (this cluster has none).

    Only in the namespaces it was told about (prefixes), so the other suites sharing the
    cluster see the bare API: ``status.loadBalancer.ingress`` = ``<svc>.<ns>.lb.realkube.test``.
    """

    DOMAIN = "lb.realkube.test"

    def __init__(self, kube: Kube, interval: float = 0.3) -> None:
        self._kube = kube
        self._interval = interval
        self._prefixes: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lb-controller", daemon=True)

    @classmethod
    def hostname(cls, service: str, namespace: str) -> str:
        return f"{service}.{namespace}.{cls.DOMAIN}"

    def watch(self, prefix: str) -> None:
        with self._lock:
            self._prefixes.add(prefix)

    def forget(self, prefix: str) -> None:
        with self._lock:
            self._prefixes.discard(prefix)

    def start(self) -> LoadBalancerController:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._fill()
            except Exception:  # noqa: S112 - a namespace vanishing mid-pass; next pass retries
                continue

    def _namespaces(self) -> Iterator[str]:
        with self._lock:
            prefixes = tuple(self._prefixes)
        if not prefixes:
            return
        for ns in self._kube.store.list("namespaces"):
            name = ns["metadata"]["name"]
            if name.startswith(prefixes) and "deletionTimestamp" not in ns["metadata"]:
                yield name

    def _fill(self) -> None:
        for ns in list(self._namespaces()):
            for svc in self._kube.store.list("services", ns):
                if (svc.get("spec") or {}).get("type") != "LoadBalancer":
                    continue
                if ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
                    continue
                name = svc["metadata"]["name"]
                ingress = [{"hostname": self.hostname(name, ns)}]
                self._kube.store.patch_status(
                    "services", ns, name, {"status": {"loadBalancer": {"ingress": ingress}}}
                )


def wait_for(predicate: Any, timeout: float = 30, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
