"""MemoryCluster: the Cluster port held in process memory.

The fast stand-in for a Kubernetes API in unit tests, and the ``memory`` cluster
provider for a dry demo. It mirrors what the real adapter does, not what would
be convenient: objects live in namespaces that must exist, a deleted namespace
is ``Terminating`` before it is gone, a Lease held by another is refused until it
expires. The contract suite (``tests/contract/test_cluster_contract.py``) runs
the same tests against this and the real adapter so the two cannot drift.

Workloads, pods, events and logs are not produced by any controller here; tests
seed them with ``add_workload``, ``add_pod``, ``add_service`` and ``add_event``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from msgspec.structs import replace

from deploytag.core.cost import Usage
from deploytag.core.errors import ClusterError, NotFoundError, RetryableClusterError
from deploytag.core.timestamps import rfc3339
from deploytag.ports.cluster import (
    Cluster,
    Diagnostics,
    EventRecord,
    JobResult,
    JobSpec,
    LeaseInfo,
    NamespaceInfo,
    ObjectRef,
    PodState,
    SecretInfo,
    ServiceAddress,
    WorkloadState,
)

if TYPE_CHECKING:
    from deploytag.core.config import ClusterConfig

# Namespaces every cluster starts with; Leases live in "default" by configuration.
_BUILTIN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# One selector term: "k", "!k", "k=v", "k==v", "k!=v", "k in (a,b)", "k notin (a,b)".
_TERM = re.compile(
    r"^\s*(?:(?P<absent>!)\s*(?P<akey>[^\s=!,()]+)"
    r"|(?P<key>[^\s=!,()]+)\s*(?:(?P<op>==|=|!=)\s*(?P<value>[^\s,()]*)"
    r"|\s+(?P<setop>in|notin)\s*\((?P<values>[^)]*)\))?)\s*$"
)


@dataclass
class _Namespace:
    name: str
    labels: dict[str, str]
    annotations: dict[str, str]
    created_at: str
    terminating: bool = False
    seen_terminating: bool = False  # observed once by a read; the next read finds it gone
    deletion_blocked: bool = False  # a finalizer that never finishes (tests of the timeout)

    def info(self) -> NamespaceInfo:
        return NamespaceInfo(
            name=self.name,
            labels=dict(self.labels),
            annotations=dict(self.annotations),
            phase="Terminating" if self.terminating else "Active",
            created_at=self.created_at,
            deleting_since=self.created_at if self.terminating else "",
            finalizers=("kubernetes",) if self.terminating and self.deletion_blocked else (),
        )


@dataclass
class _Objects:
    """Everything stored inside one namespace."""

    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    secret_meta: dict[str, SecretInfo] = field(default_factory=dict)
    other: dict[tuple[str, str], ObjectRef] = field(default_factory=dict)  # (kind, name): seeded by tests
    quotas: dict[str, dict[str, str]] = field(default_factory=dict)
    limit_ranges: dict[str, tuple[dict[str, str], dict[str, str]]] = field(default_factory=dict)
    leases: dict[str, LeaseInfo] = field(default_factory=dict)
    workloads: list[WorkloadState] = field(default_factory=list)
    usages: list[Usage] = field(default_factory=list)  # resource requests (the cost estimate)
    services: list[ServiceAddress] = field(default_factory=list)
    pods: list[PodState] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    logs: dict[str, str] = field(default_factory=dict)  # "pod/container" -> current log
    previous_logs: dict[str, str] = field(default_factory=dict)  # of the last terminated run


class MemoryCluster:
    """The in-process Cluster. Thread-safe: every operation holds one lock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._namespaces: dict[str, _Namespace] = {}
        self._objects: dict[str, _Objects] = {}
        self.jobs: list[JobSpec] = []  # every Job run, for tests
        self.recorded_events: list[EventRecord] = []  # record_event's, for tests
        self._lease_versions = 0
        # Decides a Job's (succeeded, log), succeeded None for one that never ends; the
        # default is a Job that succeeds silently.
        self.job_runner: Callable[[JobSpec], tuple[bool | None, str]] = lambda _spec: (True, "")
        # A Job's termination message (what a container wrote to /dev/termination-log).
        self.job_message: Callable[[JobSpec], str] = lambda _spec: ""
        for name in _BUILTIN_NAMESPACES:
            self._namespaces[name] = _Namespace(name, {}, {}, rfc3339(time.time()))
            self._objects[name] = _Objects()

    @classmethod
    def from_config(cls, *, config: ClusterConfig) -> MemoryCluster:
        # Nothing to configure: kubeconfig and context mean nothing without a server.
        del config
        return cls()

    def describe(self) -> str:
        return "in-memory cluster (no API server; state lives only in this process)"

    # ------------------------------------------------------------------ namespaces

    def get_namespace(self, *, name: str) -> NamespaceInfo | None:
        with self._lock:
            ns = self._observe(name)
            return ns.info() if ns else None

    def ensure_namespace(
        self, *, name: str, labels: Mapping[str, str], annotations: Mapping[str, str]
    ) -> NamespaceInfo:
        if not _DNS_LABEL.match(name) or len(name) > 63:
            raise ClusterError(
                f"namespace name {name!r} is not a valid DNS label",
                hint="use at most 63 lowercase letters, digits and '-' (the naming plan derives these)",
            )
        with self._lock:
            ns = self._namespaces.get(name)
            if ns is None:
                ns = _Namespace(name, dict(labels), dict(annotations), rfc3339(time.time()))
                self._namespaces[name] = ns
                self._objects[name] = _Objects()
                return ns.info()
            ns.labels.update(labels)
            ns.annotations.update(annotations)
            if ns.terminating:
                raise _terminating(name)
            return ns.info()

    def patch_namespace_annotations(
        self, *, name: str, annotations: Mapping[str, str | None]
    ) -> NamespaceInfo:
        with self._lock:
            ns = self._namespaces.get(name)
            if ns is None:
                raise _missing("namespace", name)
            for key, value in annotations.items():
                if value is None:
                    ns.annotations.pop(key, None)
                else:
                    ns.annotations[key] = value
            return ns.info()

    def list_namespaces(self, *, label_selector: str) -> list[NamespaceInfo]:
        match = _selector(label_selector)
        with self._lock:
            found = []
            for name in sorted(self._namespaces):
                ns = self._observe(name)
                if ns is not None and match(ns.labels):
                    found.append(ns.info())
            return found

    def delete_namespace(self, *, name: str, wait: bool, timeout_seconds: float) -> bool:
        with self._lock:
            ns = self._namespaces.get(name)
            if ns is None:
                return True
            ns.terminating = True
            if ns.deletion_blocked:
                # The real adapter would poll until the deadline; nothing here can change meanwhile.
                return not wait
            if wait:
                self._remove(name)
            return True

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
        with self._lock:
            objects = self._writable(namespace, "secrets", name)
            objects.secrets[name] = dict(data)
            objects.secret_meta[name] = SecretInfo(
                namespace=namespace,
                name=name,
                labels=dict(labels),
                annotations=dict(annotations),
                created_at=rfc3339(time.time()),
            )

    def get_secret_keys(self, *, namespace: str, name: str) -> list[str] | None:
        with self._lock:
            objects = self._objects.get(namespace)
            if objects is None or name not in objects.secrets:
                return None
            return sorted(objects.secrets[name])

    def read_secret_values(self, *, namespace: str, name: str, keys: Sequence[str]) -> dict[str, str] | None:
        with self._lock:
            objects = self._objects.get(namespace)
            found = objects.secrets.get(name) if objects else None
            return {k: found[k] for k in keys if k in found} if found is not None else None

    def get_secret_data(self, *, namespace: str, name: str) -> dict[str, str] | None:
        """For tests: the stored values (the port itself never returns them)."""
        with self._lock:
            objects = self._objects.get(namespace)
            found = objects.secrets.get(name) if objects else None
            return dict(found) if found is not None else None

    # ---------------------------------------------------------------------- quotas

    def apply_resource_quota(
        self, *, namespace: str, name: str, hard: Mapping[str, str], labels: Mapping[str, str]
    ) -> None:
        with self._lock:
            self._writable(namespace, "resourcequotas", name).quotas[name] = dict(hard)

    def apply_limit_range(
        self,
        *,
        namespace: str,
        name: str,
        default_limits: Mapping[str, str],
        default_requests: Mapping[str, str],
        labels: Mapping[str, str],
    ) -> None:
        with self._lock:
            objects = self._writable(namespace, "limitranges", name)
            objects.limit_ranges[name] = (dict(default_limits), dict(default_requests))

    def delete_quotas(self, *, namespace: str, name: str) -> None:
        with self._lock:
            objects = self._objects.get(namespace)
            if objects is not None:
                objects.quotas.pop(name, None)
                objects.limit_ranges.pop(name, None)

    def get_resource_quota(self, *, namespace: str, name: str) -> dict[str, str] | None:
        """For tests: the hard limits stored, or None."""
        with self._lock:
            objects = self._objects.get(namespace)
            found = objects.quotas.get(name) if objects else None
            return dict(found) if found is not None else None

    def get_limit_range(self, *, namespace: str, name: str) -> tuple[dict[str, str], dict[str, str]] | None:
        """For tests: (default limits, default requests), or None."""
        with self._lock:
            objects = self._objects.get(namespace)
            return objects.limit_ranges.get(name) if objects else None

    # ---------------------------------------------------------------------- leases

    def try_acquire_lease(
        self, *, namespace: str, name: str, holder: str, duration_seconds: int, now: float
    ) -> LeaseInfo | None:
        with self._lock:
            objects = self._writable(namespace, "leases", name)
            current = objects.leases.get(name)
            if current is None:
                lease = LeaseInfo(namespace, name, holder, duration_seconds, now, 0)
            elif current.holder and current.holder != holder and not _expired(current, now):
                return None
            else:
                changed = current.holder != holder
                lease = replace(
                    current,
                    holder=holder,
                    duration_seconds=duration_seconds,
                    renewed_at=now,
                    transitions=current.transitions + (1 if changed else 0),
                )
            return self._store_lease(objects, lease)

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
        with self._lock:
            objects = self._writable(namespace, "leases", name)
            current = objects.leases.get(name)
            if current is None or current.holder != previous_holder:
                return None
            lease = replace(
                current,
                holder=holder,
                duration_seconds=duration_seconds,
                renewed_at=now,
                transitions=current.transitions + (1 if holder != current.holder else 0),
            )
            return self._store_lease(objects, lease)

    def get_lease(self, *, namespace: str, name: str) -> LeaseInfo | None:
        with self._lock:
            objects = self._objects.get(namespace)
            return objects.leases.get(name) if objects else None

    def release_lease(self, *, namespace: str, name: str, holder: str) -> None:
        with self._lock:
            objects = self._objects.get(namespace)
            if objects is not None:
                current = objects.leases.get(name)
                if current is not None and current.holder == holder:
                    del objects.leases[name]

    def annotate_lease(
        self, *, namespace: str, name: str, annotations: Mapping[str, str], version: str
    ) -> LeaseInfo | None:
        with self._lock:
            objects = self._writable(namespace, "leases", name)
            current = objects.leases.get(name)
            if current is None:
                if version:
                    return None  # gone since it was read
                lease = LeaseInfo(namespace, name, "", 0, 0.0, 0, annotations=dict(annotations))
            elif current.version != version:
                return None  # written since it was read
            else:
                lease = replace(current, annotations={**current.annotations, **annotations})
            return self._store_lease(objects, lease)

    def _store_lease(self, objects: _Objects, lease: LeaseInfo) -> LeaseInfo:
        """Every write gets a new version, as the API server's resourceVersion does."""
        self._lease_versions += 1
        stored = replace(lease, version=str(self._lease_versions))
        objects.leases[lease.name] = stored
        return stored

    # ------------------------------------------------------------------- workloads

    def list_workloads(self, *, namespace: str) -> list[WorkloadState]:
        with self._lock:
            objects = self._objects.get(namespace)
            return sorted(objects.workloads, key=lambda w: (w.kind, w.name)) if objects else []

    def list_resource_requests(self, *, namespace: str | None) -> list[Usage]:
        with self._lock:
            found = [
                replace(u, namespace=name)
                for name, objects in self._objects.items()
                if namespace is None or name == namespace
                for u in objects.usages
            ]
            return sorted(found, key=lambda u: (u.namespace, u.kind, u.name))

    def list_services(self, *, namespace: str) -> list[ServiceAddress]:
        with self._lock:
            objects = self._objects.get(namespace)
            return sorted(objects.services, key=lambda s: s.name) if objects else []

    def collect_diagnostics(self, *, namespace: str, log_lines: int) -> Diagnostics:
        with self._lock:
            objects = self._objects.get(namespace) or _Objects()
            logs: dict[str, str] = {}
            for pod in objects.pods:
                for container in pod.containers:
                    if container.ready and container.restart_count == 0:
                        continue
                    key = f"{pod.name}/{container.name}"
                    text = (
                        objects.previous_logs.get(key) if container.restart_count > 0 else None
                    ) or objects.logs.get(key)
                    if text:
                        logs[key] = _tail(text, log_lines)
            return Diagnostics(
                workloads=self.list_workloads(namespace=namespace),
                pods=sorted(objects.pods, key=lambda p: p.name),
                events=sorted(objects.events, key=lambda e: e.last_seen),
                logs=logs,
            )

    def scale_workload(self, *, namespace: str, kind: str, name: str, replicas: int) -> None:
        with self._lock:
            objects = self._objects.get(namespace)
            found = [w for w in objects.workloads if (w.kind, w.name) == (kind, name)] if objects else []
            if objects is None or not found:
                raise _missing(kind.lower(), name)
            objects.workloads = [
                replace(w, desired=replicas) if (w.kind, w.name) == (kind, name) else w
                for w in objects.workloads
            ]

    # ----------------------------------------------------------------- housekeeping

    def list_leases(self, *, namespace: str, label_selector: str) -> list[LeaseInfo]:
        match = _selector(label_selector)
        with self._lock:
            objects = self._objects.get(namespace)
            # Every Lease here is one of ours (try_acquire_lease and annotate_lease label them so).
            ours = {"app.kubernetes.io/managed-by": "deploytag"}
            return sorted(objects.leases.values(), key=lambda x: x.name) if objects and match(ours) else []

    def delete_lease(self, *, namespace: str, name: str, version: str) -> bool:
        with self._lock:
            objects = self._objects.get(namespace)
            current = objects.leases.get(name) if objects else None
            if objects is None or current is None or (version and current.version != version):
                return False
            del objects.leases[name]
            return True

    def list_secrets(self, *, namespace: str, label_selector: str) -> list[SecretInfo]:
        match = _selector(label_selector)
        with self._lock:
            objects = self._objects.get(namespace)
            found = objects.secret_meta.values() if objects else []
            return sorted((s for s in found if match(s.labels)), key=lambda s: s.name)

    def delete_secret(self, *, namespace: str, name: str) -> None:
        with self._lock:
            objects = self._objects.get(namespace)
            if objects is not None:
                objects.secrets.pop(name, None)
                objects.secret_meta.pop(name, None)

    def list_namespace_contents(self, *, namespace: str) -> list[ObjectRef]:
        with self._lock:
            objects = self._objects.get(namespace)
            if objects is None:
                return []
            terminating = self._namespaces[namespace].terminating
            found = [
                ObjectRef("v1", "Secret", "secrets", namespace, n, (), terminating) for n in objects.secrets
            ]
            found += [
                ObjectRef("apps/v1", w.kind, w.kind.lower() + "s", namespace, w.name, (), terminating)
                for w in objects.workloads
            ]
            found += list(objects.other.values())
            return sorted(found, key=lambda r: (r.api_version, r.kind, r.name))

    def remove_finalizers(self, *, ref: ObjectRef) -> None:
        with self._lock:
            objects = self._objects.get(ref.namespace)
            ns = self._namespaces.get(ref.namespace)
            if objects is not None and (ref.kind, ref.name) in objects.other:
                held = objects.other.pop((ref.kind, ref.name))
                if not (held.deleting or (ns is not None and ns.terminating)):  # else it goes now
                    objects.other[(ref.kind, ref.name)] = replace(held, finalizers=())
            if (
                ns is not None
                and objects is not None
                and not any(o.finalizers for o in objects.other.values())
            ):
                ns.deletion_blocked = False  # nothing holds it any more

    def finalize_namespace(self, *, name: str) -> NamespaceInfo | None:
        with self._lock:
            ns = self._namespaces.get(name)
            if ns is None:
                return None
            if ns.terminating:
                self._remove(name)
                return None
            return ns.info()

    def record_event(
        self, *, namespace: str, kind: str, name: str, reason: str, message: str, type: str = "Normal"
    ) -> None:
        with self._lock:
            self.recorded_events.append(
                EventRecord(object_kind=kind, object_name=name, type=type, reason=reason, message=message)
            )

    # ----------------------------------------------------- seeding, for tests only

    def add_object(self, *, ref: ObjectRef) -> None:
        """Seed any other object (with finalizers, it holds a terminating namespace)."""
        with self._lock:
            objects = self._writable(ref.namespace, ref.resource, ref.name)
            objects.other[(ref.kind, ref.name)] = ref
            if ref.finalizers:
                self._namespaces[ref.namespace].deletion_blocked = True

    def add_workload(self, *, namespace: str, workload: WorkloadState) -> None:
        """Add or replace (by kind and name) a workload's observed state."""
        with self._lock:
            objects = self._writable(namespace, "deployments", workload.name)
            objects.workloads = [
                w for w in objects.workloads if (w.kind, w.name) != (workload.kind, workload.name)
            ]
            objects.workloads.append(workload)

    def add_resource_requests(self, *, namespace: str, usage: Usage) -> None:
        """Add or replace (by kind and name) what a workload requests, as list_resource_requests reports it."""
        with self._lock:
            objects = self._writable(namespace, usage.kind.lower() + "s", usage.name)
            objects.usages = [u for u in objects.usages if (u.kind, u.name) != (usage.kind, usage.name)]
            objects.usages.append(replace(usage, namespace=namespace))

    def add_service(self, *, namespace: str, service: ServiceAddress) -> None:
        with self._lock:
            objects = self._writable(namespace, "services", service.name)
            objects.services = [s for s in objects.services if s.name != service.name]
            objects.services.append(service)

    def add_pod(
        self,
        *,
        namespace: str,
        pod: PodState,
        logs: Mapping[str, str] | None = None,
        previous_logs: Mapping[str, str] | None = None,
    ) -> None:
        """Add a pod; ``logs``/``previous_logs`` map container name -> its log text."""
        with self._lock:
            objects = self._writable(namespace, "pods", pod.name)
            objects.pods = [p for p in objects.pods if p.name != pod.name]
            objects.pods.append(pod)
            for container, text in (logs or {}).items():
                objects.logs[f"{pod.name}/{container}"] = text
            for container, text in (previous_logs or {}).items():
                objects.previous_logs[f"{pod.name}/{container}"] = text

    def add_event(self, *, namespace: str, event: EventRecord) -> None:
        with self._lock:
            self._writable(namespace, "events", event.object_name).events.append(event)

    def block_namespace_deletion(self, *, name: str, blocked: bool = True) -> None:
        """Make a namespace stay Terminating, as a stuck finalizer does."""
        with self._lock:
            ns = self._namespaces.get(name)
            if ns is None:
                raise _missing("namespace", name)
            ns.deletion_blocked = blocked

    # ------------------------------------------------------------------- internals

    def _observe(self, name: str) -> _Namespace | None:
        """A read of a namespace; a Terminating one is seen once, then gone (a controller's delay)."""
        ns = self._namespaces.get(name)
        if ns is None or not ns.terminating or ns.deletion_blocked:
            return ns
        if ns.seen_terminating:
            self._remove(name)
            return None
        ns.seen_terminating = True
        return ns

    def _remove(self, name: str) -> None:
        self._namespaces.pop(name, None)
        self._objects.pop(name, None)

    # ------------------------------------------------------------------------ jobs

    def run_job(self, *, spec: JobSpec, timeout_seconds: float, log_lines: int) -> JobResult:
        with self._lock:
            self._writable(spec.namespace, "jobs", spec.name)
            if spec.env_secret and spec.env_secret not in self._objects[spec.namespace].secrets:
                # A real pod would wait in CreateContainerConfigError until the deadline.
                return JobResult(spec.name, False, "Timeout", f'secret "{spec.env_secret}" not found')
            for secret in spec.secret_mounts.values():
                if secret not in self._objects[spec.namespace].secrets:
                    # A real pod waits in ContainerCreating (FailedMount) until the deadline.
                    return JobResult(spec.name, False, "Timeout", f'secret "{secret}" not found')
            self.jobs.append(spec)
        ok, log = self.job_runner(spec)
        tail = "".join(log.splitlines(keepends=True)[-max(log_lines, 1) :])
        if ok is None:  # never finishes: the deadline ends it
            return JobResult(spec.name, False, "Timeout", tail)
        message = self.job_message(spec)
        return JobResult(spec.name, ok, "Complete" if ok else "BackoffLimitExceeded", tail, message)

    def _writable(self, namespace: str, resource: str, name: str) -> _Objects:
        ns = self._namespaces.get(namespace)
        if ns is None:
            raise _missing("namespace", namespace)
        if ns.terminating:
            # The API server refuses new objects in a Terminating namespace (403 there).
            raise RetryableClusterError(
                f"cannot write {resource} {name}: namespace {namespace} is being deleted",
                hint="wait until the namespace is gone, then run again",
            )
        return self._objects[namespace]


def _expired(lease: LeaseInfo, now: float) -> bool:
    return lease.renewed_at + lease.duration_seconds <= now


def _tail(text: str, lines: int) -> str:
    kept = text.splitlines()[-lines:] if lines > 0 else []
    return "\n".join(kept)


def _missing(kind: str, name: str) -> NotFoundError:
    return NotFoundError(f"{kind} {name} not found", hint="check the name; deploy creates it")


def _terminating(name: str) -> RetryableClusterError:
    return RetryableClusterError(
        f"namespace {name} is being deleted",
        hint="wait until it is gone (deploytag destroy waits), then run again",
    )


def _selector(selector: str) -> _Matcher:
    terms = [t for t in _split_terms(selector) if t.strip()]
    checks = []
    for term in terms:
        m = _TERM.match(term)
        if m is None:
            raise ClusterError(
                f"unsupported label selector term {term!r}",
                hint="use key=value, key!=value, key, !key, key in (a,b) or key notin (a,b)",
            )
        checks.append(m.groupdict())
    return _Matcher(checks)


@dataclass(frozen=True)
class _Matcher:
    checks: Sequence[Mapping[str, str | None]]

    def __call__(self, labels: Mapping[str, str]) -> bool:
        return all(self._one(c, labels) for c in self.checks)

    @staticmethod
    def _one(c: Mapping[str, str | None], labels: Mapping[str, str]) -> bool:
        if c["absent"]:
            return c["akey"] not in labels
        key = c["key"] or ""
        if c["op"] in ("=", "=="):
            return labels.get(key) == c["value"]
        if c["op"] == "!=":
            return labels.get(key) != c["value"]
        if c["setop"]:
            values = {v.strip() for v in (c["values"] or "").split(",")}
            inside = key in labels and labels[key] in values
            return inside if c["setop"] == "in" else not inside
        return key in labels


def _split_terms(selector: str) -> list[str]:
    """Split on commas outside parentheses ("a in (x,y),b" -> two terms)."""
    terms, depth, current = [], 0, ""
    for ch in selector:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += ch
    terms.append(current)
    return terms


if TYPE_CHECKING:

    def _implements_the_port(cluster: MemoryCluster) -> Cluster:
        return cluster  # mypy checks the class against the Cluster Protocol here
