"""Leases (coordination.k8s.io/v1): the per-environment lock, taken atomically.

Atomicity comes from the API server, not from us: creation either succeeds or
conflicts, and a takeover is a replace carrying the resourceVersion we read, so
of two runs that both saw an expired lease exactly one replace succeeds.

Waiting runs also write to the lease (their deploy request, as an annotation), so
a conflict does not mean another run took the lease: every conditional write that
conflicts is retried from a fresh read, which decides again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deploytag.adapters.kubernetes.connection import Connection, resource_path
from deploytag.adapters.kubernetes.convert import lease_info, micro_time
from deploytag.adapters.kubernetes.errors import ApiConflict, ApiNotFound, Op
from deploytag.ports.cluster import MANAGED_BY_LABEL, MANAGED_BY_VALUE, LeaseInfo

_GROUP = "coordination.k8s.io"
# Create -> conflict -> read can find the lease deleted by its holder in between, and a
# replace can conflict with a waiting run's annotation; a bounded number of fresh reads
# settles both without looping forever against a flapping writer.
_ROUNDS = 8


class LeaseOps:
    _conn: Connection

    def try_acquire_lease(
        self, *, namespace: str, name: str, holder: str, duration_seconds: int, now: float
    ) -> LeaseInfo | None:
        for _ in range(_ROUNDS):
            try:
                created = self._conn.json(
                    _op("create", name, namespace),
                    "POST",
                    _path(namespace),
                    body=_new_lease(name=name, holder=holder, duration_seconds=duration_seconds, now=now),
                )
                return lease_info(namespace=namespace, name=name, obj=created)
            except ApiConflict:
                pass  # it exists: see whether it is free, expired or already ours
            try:
                current = self._conn.json(_op("get", name, namespace), "GET", _path(namespace, name))
            except ApiNotFound:
                continue  # released between our create and read
            seen = lease_info(namespace=namespace, name=name, obj=current)
            if seen.holder and seen.holder != holder and seen.renewed_at + seen.duration_seconds > now:
                return None
            body = _taken_over(current, holder=holder, duration_seconds=duration_seconds, now=now)
            try:
                replaced = self._conn.json(
                    _op("update", name, namespace),
                    "PUT",
                    _path(namespace, name),
                    body=body,
                )
            except (ApiConflict, ApiNotFound):
                continue  # changed since our read (another holder, or an annotation): read again
            return lease_info(namespace=namespace, name=name, obj=replaced)
        return None

    def take_over_lease(
        self,
        *,
        namespace: str,
        name: str,
        holder: str,
        duration_seconds: int,
        now: float,
        previous_holder: str,
    ) -> LeaseInfo | None:
        for _ in range(_ROUNDS):
            try:
                current = self._conn.json(_op("get", name, namespace), "GET", _path(namespace, name))
            except ApiNotFound:
                return None  # nothing to take over: try_acquire_lease creates it
            if lease_info(namespace=namespace, name=name, obj=current).holder != previous_holder:
                return None  # the holder changed since our read; the caller re-reads
            body = _taken_over(current, holder=holder, duration_seconds=duration_seconds, now=now)
            try:
                replaced = self._conn.json(
                    _op("update", name, namespace),
                    "PUT",
                    _path(namespace, name),
                    body=body,
                )
            except ApiConflict:
                continue  # written since our read (a renewal, an annotation): read again
            except ApiNotFound:
                return None
            return lease_info(namespace=namespace, name=name, obj=replaced)
        return None

    def get_lease(self, *, namespace: str, name: str) -> LeaseInfo | None:
        try:
            obj = self._conn.json(_op("get", name, namespace), "GET", _path(namespace, name))
        except ApiNotFound:
            return None
        return lease_info(namespace=namespace, name=name, obj=obj)

    def release_lease(self, *, namespace: str, name: str, holder: str) -> None:
        for _ in range(_ROUNDS):
            try:
                current = self._conn.json(_op("get", name, namespace), "GET", _path(namespace, name))
            except ApiNotFound:
                return
            if lease_info(namespace=namespace, name=name, obj=current).holder != holder:
                return
            version = (current.get("metadata") or {}).get("resourceVersion")
            # Deleted rather than cleared so a removed environment leaves no Lease behind; the
            # precondition keeps us from deleting one another run took over after we read it.
            try:
                self._conn.json(
                    _op("delete", name, namespace),
                    "DELETE",
                    _path(namespace, name),
                    body={"preconditions": {"resourceVersion": version}} if version else None,
                )
            except ApiConflict:
                continue  # a waiting run annotated it since our read: still ours, read again
            except ApiNotFound:
                return
            return

    def annotate_lease(
        self, *, namespace: str, name: str, annotations: Mapping[str, str], version: str
    ) -> LeaseInfo | None:
        if not version:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {
                    "name": name,
                    "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE},
                    "annotations": dict(annotations),
                },
                "spec": {},
            }
            try:
                created = self._conn.json(_op("create", name, namespace), "POST", _path(namespace), body=body)
            except ApiConflict:
                return None  # created by someone since our read
            return lease_info(namespace=namespace, name=name, obj=created)
        try:
            current = self._conn.json(_op("get", name, namespace), "GET", _path(namespace, name))
        except ApiNotFound:
            return None
        metadata = {k: v for k, v in (current.get("metadata") or {}).items() if k != "managedFields"}
        if str(metadata.get("resourceVersion") or "") != version:
            return None
        metadata["annotations"] = {**(metadata.get("annotations") or {}), **annotations}
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": metadata,  # carries ``version``: the API server refuses a stale replace
            "spec": current.get("spec") or {},
        }
        try:
            replaced = self._conn.json(
                _op("update", name, namespace), "PUT", _path(namespace, name), body=body
            )
        except (ApiConflict, ApiNotFound):
            return None
        return lease_info(namespace=namespace, name=name, obj=replaced)


def _op(verb: str, name: str, namespace: str) -> Op:
    return Op(verb=verb, resource="leases", name=name, namespace=namespace, group=_GROUP)


def _path(namespace: str, name: str = "") -> str:
    return resource_path("coordination.k8s.io/v1", "leases", name, namespace=namespace)


def _new_lease(*, name: str, holder: str, duration_seconds: int, now: float) -> dict[str, Any]:
    stamp = micro_time(now)
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE}},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": duration_seconds,
            "acquireTime": stamp,
            "renewTime": stamp,
            "leaseTransitions": 0,
        },
    }


def _taken_over(current: dict[str, Any], *, holder: str, duration_seconds: int, now: float) -> dict[str, Any]:
    """The read object with us as holder; its resourceVersion makes the replace conditional."""
    spec = dict(current.get("spec") or {})
    stamp = micro_time(now)
    if spec.get("holderIdentity") != holder:
        spec["acquireTime"] = stamp
        spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
    spec.update(holderIdentity=holder, leaseDurationSeconds=duration_seconds, renewTime=stamp)
    metadata = {k: v for k, v in (current.get("metadata") or {}).items() if k != "managedFields"}
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata, "spec": spec}
