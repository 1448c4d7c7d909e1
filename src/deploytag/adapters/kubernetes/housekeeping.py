"""Listing and removing DeployTag's leftovers: Leases, kaniko Secrets, what holds a namespace.

``list_namespace_contents`` asks discovery for every listable namespaced resource type
(as the namespace controller does) and lists each, so a custom resource with a finalizer
shows up too. Scaling goes through the scale subresource, which needs only the
``deployments/scale`` permission and never touches the rest of the spec.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from deploytag.adapters.kubernetes.connection import MERGE_PATCH, Connection, resource_path
from deploytag.adapters.kubernetes.convert import lease_info, micro_time, namespace_info
from deploytag.adapters.kubernetes.errors import ApiConflict, ApiNotFound, Op
from deploytag.core.errors import DeployTagError
from deploytag.ports.cluster import LeaseInfo, NamespaceInfo, ObjectRef, SecretInfo

_SCALABLE = {"Deployment": "deployments", "StatefulSet": "statefulsets"}
# Events say what happened and hold nothing; listing them would only add noise.
_SKIP = {("", "events"), ("events.k8s.io", "events")}


class HousekeepingOps:
    _conn: Connection

    # ------------------------------------------------------------------ scaling

    def scale_workload(self, *, namespace: str, kind: str, name: str, replicas: int) -> None:
        resource = _SCALABLE.get(kind)
        if resource is None:
            raise ValueError(f"cannot scale a {kind}; only {', '.join(_SCALABLE)}")
        op = Op(verb="patch", resource=f"{resource}/scale", name=name, namespace=namespace, group="apps")
        path = resource_path("apps/v1", resource, name, namespace=namespace, subresource="scale")
        self._conn.json(op, "PATCH", path, body={"spec": {"replicas": replicas}}, content_type=MERGE_PATCH)

    # ------------------------------------------------------------------ leases and secrets

    def list_leases(self, *, namespace: str, label_selector: str) -> list[LeaseInfo]:
        op = Op(verb="list", resource="leases", namespace=namespace, group="coordination.k8s.io")
        path = resource_path("coordination.k8s.io/v1", "leases", namespace=namespace)
        items = self._conn.items(op, path, query={"labelSelector": label_selector})
        found = [lease_info(namespace=namespace, name=str(_meta(i).get("name", "")), obj=i) for i in items]
        return sorted(found, key=lambda lease: lease.name)

    def delete_lease(self, *, namespace: str, name: str, version: str) -> bool:
        op = Op(verb="delete", resource="leases", name=name, namespace=namespace, group="coordination.k8s.io")
        try:
            self._conn.json(
                op,
                "DELETE",
                resource_path("coordination.k8s.io/v1", "leases", name, namespace=namespace),
                body={"preconditions": {"resourceVersion": version}} if version else None,
            )
        except (ApiConflict, ApiNotFound):
            return False
        return True

    def list_secrets(self, *, namespace: str, label_selector: str) -> list[SecretInfo]:
        op = Op(verb="list", resource="secrets", namespace=namespace)
        path = resource_path("v1", "secrets", namespace=namespace)
        items = self._conn.items(op, path, query={"labelSelector": label_selector})
        found = [
            SecretInfo(
                namespace=namespace,
                name=str(_meta(i).get("name", "")),
                labels=_strings(_meta(i).get("labels")),
                annotations=_strings(_meta(i).get("annotations")),
                created_at=str(_meta(i).get("creationTimestamp") or ""),
            )
            for i in items
        ]
        return sorted(found, key=lambda s: s.name)

    def delete_secret(self, *, namespace: str, name: str) -> None:
        op = Op(verb="delete", resource="secrets", name=name, namespace=namespace)
        try:
            self._conn.json(op, "DELETE", resource_path("v1", "secrets", name, namespace=namespace))
        except ApiNotFound:
            return

    # ------------------------------------------------------------------ what holds a namespace

    def list_namespace_contents(self, *, namespace: str) -> list[ObjectRef]:
        found: list[ObjectRef] = []
        for group_version, resource, kind in self._namespaced_types():
            group = group_version.rpartition("/")[0]
            op = Op(verb="list", resource=resource, namespace=namespace, group=group)
            try:
                items = self._conn.items(op, resource_path(group_version, resource, namespace=namespace))
            except ApiNotFound:
                continue  # the type went away since discovery (a CRD deleted)
            except DeployTagError:
                continue  # an aggregated API that is down must not hide the rest
            for item in items:
                meta = _meta(item)
                found.append(
                    ObjectRef(
                        api_version=group_version,
                        kind=kind,
                        resource=resource,
                        namespace=namespace,
                        name=str(meta.get("name", "")),
                        finalizers=tuple(str(f) for f in meta.get("finalizers") or ()),
                        deleting=bool(meta.get("deletionTimestamp")),
                    )
                )
        return sorted(found, key=lambda r: (r.api_version, r.kind, r.name))

    def _namespaced_types(self) -> list[tuple[str, str, str]]:
        """(group/version, plural, kind) of every namespaced type that can be listed and patched."""
        versions = ["v1"]
        groups = self._conn.json(Op(verb="get", resource="apis"), "GET", "/apis")
        for group in groups.get("groups") or []:
            preferred = (group.get("preferredVersion") or {}).get("groupVersion")
            if preferred:
                versions.append(str(preferred))
        types: list[tuple[str, str, str]] = []
        for group_version in versions:
            path = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
            try:
                listing = self._conn.json(Op(verb="get", resource=path), "GET", path)
            except DeployTagError:
                continue  # an unavailable aggregated API: the namespace controller reports it too
            group = group_version.rpartition("/")[0]
            for r in listing.get("resources") or []:
                name, verbs = str(r.get("name", "")), set(r.get("verbs") or ())
                if "/" in name or not r.get("namespaced") or not {"list", "patch"} <= verbs:
                    continue
                if (group, name) not in _SKIP:
                    types.append((group_version, name, str(r.get("kind", ""))))
        return types

    def remove_finalizers(self, *, ref: ObjectRef) -> None:
        path = resource_path(ref.api_version, ref.resource, ref.name, namespace=ref.namespace)
        op = Op(
            verb="patch",
            resource=ref.resource,
            name=ref.name,
            namespace=ref.namespace,
            group=ref.api_version.rpartition("/")[0],
        )
        try:
            self._conn.json(
                op,
                "PATCH",
                path,
                body={"metadata": {"finalizers": None}},
                content_type=MERGE_PATCH,
            )
        except ApiNotFound:
            return

    def finalize_namespace(self, *, name: str) -> NamespaceInfo | None:
        op = Op(verb="update", resource="namespaces/finalize", name=name)
        try:
            current = self._conn.json(
                Op(verb="patch", resource="namespaces", name=name),
                "PATCH",
                resource_path("v1", "namespaces", name),
                body={"metadata": {"finalizers": None}},
                content_type=MERGE_PATCH,
            )
            body = {**current, "spec": {**(current.get("spec") or {}), "finalizers": []}}
            body["metadata"] = {
                k: v for k, v in (current.get("metadata") or {}).items() if k != "managedFields"
            }
            path = resource_path("v1", "namespaces", name, subresource="finalize")
            finalized = self._conn.json(op, "PUT", path, body=body)
        except ApiNotFound:
            return None
        return namespace_info(finalized) if finalized else None

    def record_event(
        self, *, namespace: str, kind: str, name: str, reason: str, message: str, type: str = "Normal"
    ) -> None:
        # Events about a cluster-scoped object (a Namespace) live in "default", as the API's
        # own event recorders put them: one kept in a namespace about to go would go with it.
        stored_in = namespace or "default"
        stamp = micro_time(time.time())
        second = stamp.split(".")[0] + "Z"
        body: Mapping[str, Any] = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{name}.deploytag-", "namespace": stored_in},
            "involvedObject": {
                "apiVersion": "v1" if kind in ("Namespace", "ConfigMap", "Secret") else "",
                "kind": kind,
                "name": name,
                **({"namespace": namespace} if namespace else {}),
            },
            "reason": reason,
            "message": message,
            "type": type,
            "source": {"component": "deploytag"},
            "reportingComponent": "deploytag",
            "reportingInstance": "deploytag",
            "firstTimestamp": second,
            "lastTimestamp": second,
            "count": 1,
        }
        op = Op(verb="create", resource="events", namespace=stored_in)
        self._conn.json(op, "POST", resource_path("v1", "events", namespace=stored_in), body=body)


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _strings(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}
