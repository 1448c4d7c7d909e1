"""The Cluster port: everything DeployTag asks of the Kubernetes API.

Split into one Protocol per capability so a step names only what it uses and a
test double implements only what it must. ``Cluster`` is their union, which the
real adapter (``adapters.kubernetes``) and the in-memory fake
(``adapters.memory``) both implement, and which one contract suite
(``tests/contract/test_cluster_contract.py``) checks against both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import msgspec

from deploytag.core.cost import Usage

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "deploytag"
ENVIRONMENT_SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"
ANNOTATION_PREFIX = "deploytag.dev/"


class NamespaceCondition(msgspec.Struct, frozen=True):
    """One of a terminating namespace's status conditions, as the namespace controller writes them."""

    type: (
        str  # NamespaceContentRemaining, NamespaceFinalizersRemaining, NamespaceDeletionDiscoveryFailure ...
    )
    status: str
    reason: str = ""
    message: str = ""


class NamespaceInfo(msgspec.Struct, frozen=True):
    name: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    phase: str = "Active"  # "Active" or "Terminating"
    created_at: str = ""  # RFC 3339, as the API server reports it
    deleting_since: str = ""  # metadata.deletionTimestamp, once deleted
    finalizers: tuple[str, ...] = ()  # spec.finalizers ("kubernetes" until the controller emptied it)
    conditions: tuple[NamespaceCondition, ...] = ()


class ObjectRef(msgspec.Struct, frozen=True):
    """Any namespaced object, by API group/version, kind and name: what is left in a namespace."""

    api_version: str  # "v1", "apps/v1"
    kind: str
    resource: str  # the plural the API serves it under: "configmaps"
    namespace: str
    name: str
    finalizers: tuple[str, ...] = ()
    deleting: bool = False  # metadata.deletionTimestamp is set


class SecretInfo(msgspec.Struct, frozen=True):
    """A Secret's metadata only; values are never read by listing."""

    namespace: str
    name: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    created_at: str = ""  # RFC 3339


class LeaseInfo(msgspec.Struct, frozen=True):
    namespace: str
    name: str
    holder: str
    duration_seconds: int
    renewed_at: float  # seconds since the epoch
    transitions: int = 0
    # What runs waiting for this lease record on it (the newest deploy request, capabilities.ordering).
    annotations: Mapping[str, str] = msgspec.field(default_factory=dict)
    # The API server's resourceVersion as read: annotate_lease writes only if it is unchanged.
    version: str = ""


class ContainerState(msgspec.Struct, frozen=True):
    """One container as the kubelet reports it.

    A real kubelet shows a crash loop mostly as a running (restarted) or terminated container
    with reason ``Error`` and its exit code; ``CrashLoopBackOff`` is the waiting state between
    restarts only. Why the last run died (``OOMKilled``, ``Error``) is in ``last_*``.
    """

    name: str
    ready: bool
    restart_count: int = 0
    waiting_reason: str = ""  # ImagePullBackOff, CrashLoopBackOff, ...
    waiting_message: str = ""
    terminated_reason: str = ""  # the current run's, else the last run's (why it died)
    exit_code: int | None = None  # likewise
    running: bool = False  # the current run is running (restarted, maybe not ready yet)
    last_terminated_reason: str = ""  # lastState.terminated: Error, OOMKilled, Completed
    last_exit_code: int | None = None


class PodState(msgspec.Struct, frozen=True):
    name: str
    phase: str  # Pending, Running, Succeeded, Failed, Unknown
    ready: bool
    containers: Sequence[ContainerState] = ()
    conditions: Mapping[str, str] = msgspec.field(default_factory=dict)  # type -> status
    unschedulable_reason: str = ""  # the scheduler's message when Pending
    owner: str = ""  # kind/name of the controller that owns it
    # Containers without a readinessProbe: the kubelet calls them Ready as soon as they start.
    unprobed_containers: tuple[str, ...] = ()


class WorkloadState(msgspec.Struct, frozen=True):
    """A Deployment or StatefulSet (or DaemonSet) and whether its rollout is done."""

    kind: str
    name: str
    desired: int
    ready: int
    updated: int
    available: int
    observed_generation_current: bool
    conditions: Mapping[str, str] = msgspec.field(default_factory=dict)  # type -> "status: message"
    selector: Mapping[str, str] = msgspec.field(default_factory=dict)
    # Pods of every revision (status.replicas); above ``updated`` while old pods still run.
    total: int | None = None

    @property
    def rolled_out(self) -> bool:
        """kubectl rollout status's rule: current spec observed, every pod updated and
        available, and no pod of an older revision left."""
        return (
            self.observed_generation_current
            and self.updated >= self.desired
            and self.ready >= self.desired
            and self.available >= self.desired
            and (self.total is None or self.total <= self.updated)
        )


class EventRecord(msgspec.Struct, frozen=True):
    object_kind: str
    object_name: str
    type: str  # Normal or Warning
    reason: str
    message: str
    count: int = 1
    last_seen: str = ""


class Diagnostics(msgspec.Struct, frozen=True):
    """What verify prints when a rollout fails: enough to fix it without kubectl."""

    workloads: Sequence[WorkloadState]
    pods: Sequence[PodState]
    events: Sequence[EventRecord]
    logs: Mapping[str, str]  # "pod/container" -> last lines


class ServiceAddress(msgspec.Struct, frozen=True):
    name: str
    type: str  # ClusterIP, LoadBalancer, NodePort
    hostnames: Sequence[str] = ()  # load balancer hostnames or IPs
    ports: Sequence[int] = ()


class JobSpec(msgspec.Struct, frozen=True):
    """One run-to-completion container: a migration with the new image and the environment's Secret."""

    namespace: str
    name: str
    image: str
    command: Sequence[str]
    env_secret: str | None = None  # all keys of this Secret become environment variables
    labels: Mapping[str, str] = msgspec.field(default_factory=dict)
    # Container args after the image's entrypoint (used when ``command`` is empty): kaniko's flags.
    args: Sequence[str] = ()
    # mount path -> Secret name, mounted read-only (kaniko's /kaniko/.docker/config.json).
    secret_mounts: Mapping[str, str] = msgspec.field(default_factory=dict)


class JobResult(msgspec.Struct, frozen=True):
    name: str
    succeeded: bool
    reason: str = ""  # Complete, BackoffLimitExceeded, DeadlineExceeded, Timeout, ...
    logs: str = ""  # the last lines of the Job's pod
    message: str = ""  # the container's termination message (/dev/termination-log), e.g. a digest


class Namespaces(Protocol):
    def get_namespace(self, *, name: str) -> NamespaceInfo | None: ...

    def ensure_namespace(
        self, *, name: str, labels: Mapping[str, str], annotations: Mapping[str, str]
    ) -> NamespaceInfo:
        """Create the namespace or merge the given labels/annotations into it."""
        ...

    def patch_namespace_annotations(
        self, *, name: str, annotations: Mapping[str, str | None]
    ) -> NamespaceInfo:
        """Merge-patch annotations; a value of None removes the key."""
        ...

    def list_namespaces(self, *, label_selector: str) -> list[NamespaceInfo]: ...

    def delete_namespace(self, *, name: str, wait: bool, timeout_seconds: float) -> bool:
        """Delete it; with ``wait``, return True once it is gone, False on timeout.

        Deleting a namespace that does not exist is not an error (returns True).
        """
        ...


class Secrets(Protocol):
    def apply_secret(
        self,
        *,
        namespace: str,
        name: str,
        data: Mapping[str, str],
        labels: Mapping[str, str],
        annotations: Mapping[str, str],
    ) -> None:
        """Create or replace an Opaque Secret with exactly these keys."""
        ...

    def get_secret_keys(self, *, namespace: str, name: str) -> list[str] | None:
        """Key names only (never values); None when the Secret does not exist."""
        ...

    def read_secret_values(self, *, namespace: str, name: str, keys: Sequence[str]) -> dict[str, str] | None:
        """The values of ``keys`` only (those present); None when the Secret does not exist.

        For values DeployTag itself generated and must keep (the database password).
        """
        ...


class Quotas(Protocol):
    def apply_resource_quota(
        self, *, namespace: str, name: str, hard: Mapping[str, str], labels: Mapping[str, str]
    ) -> None: ...

    def apply_limit_range(
        self,
        *,
        namespace: str,
        name: str,
        default_limits: Mapping[str, str],
        default_requests: Mapping[str, str],
        labels: Mapping[str, str],
    ) -> None: ...

    def delete_quotas(self, *, namespace: str, name: str) -> None:
        """Remove the ResourceQuota and LimitRange of that name (the off switch)."""
        ...


class Leases(Protocol):
    def try_acquire_lease(
        self, *, namespace: str, name: str, holder: str, duration_seconds: int, now: float
    ) -> LeaseInfo | None:
        """Take the lease if free, expired or already ours; None if someone else holds it.

        Must be atomic against concurrent callers (create-or-conflict, and
        resourceVersion-checked replace on the real API).
        """
        ...

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
        """Take the lease from ``previous_holder`` even if unexpired (``--supersede``).

        Succeeds only if ``previous_holder`` still holds it (resourceVersion-checked
        replace); None when the holder changed meanwhile, so the caller re-reads.
        """
        ...

    def get_lease(self, *, namespace: str, name: str) -> LeaseInfo | None: ...

    def release_lease(self, *, namespace: str, name: str, holder: str) -> None:
        """Give the lease up if we still hold it; no-op otherwise."""
        ...

    def annotate_lease(
        self, *, namespace: str, name: str, annotations: Mapping[str, str], version: str
    ) -> LeaseInfo | None:
        """Merge ``annotations`` into the lease, only if it is still at ``version`` (as read).

        With ``version`` "" the lease must not exist: one is created with no holder,
        carrying the annotations. None when the lease changed, appeared or went since
        it was read (optimistic concurrency): the caller re-reads and decides again.
        Holder and expiry are left as they are.
        """
        ...


class Workloads(Protocol):
    def list_workloads(self, *, namespace: str) -> list[WorkloadState]: ...

    def list_services(self, *, namespace: str) -> list[ServiceAddress]: ...

    def collect_diagnostics(self, *, namespace: str, log_lines: int) -> Diagnostics: ...

    def list_resource_requests(self, *, namespace: str | None) -> list[Usage]:
        """What each Deployment, StatefulSet, Job and CronJob keeps requested, sorted by
        (namespace, kind, name); in every namespace when ``namespace`` is None (one call per kind).

        ``replicas`` is spec.replicas (default 1); for a Job its parallelism (default 1), 0 once
        it finished or while suspended; a Job a CronJob made is left out (the CronJob counts it); a CronJob counts
        its job template's parallelism (0 when suspended), as if it ran all month: an upper bound.
        """
        ...


class Scaling(Protocol):
    def scale_workload(self, *, namespace: str, kind: str, name: str, replicas: int) -> None:
        """Set a Deployment's or StatefulSet's spec.replicas (the scale subresource).

        Raises NotFoundError when it does not exist.
        """
        ...


class Housekeeping(Protocol):
    """What the orphan sweep and a stuck namespace need: listing and removing our leftovers."""

    def list_leases(self, *, namespace: str, label_selector: str) -> list[LeaseInfo]: ...

    def delete_lease(self, *, namespace: str, name: str, version: str) -> bool:
        """Delete it only if still at ``version`` (as read); False when it changed or is gone."""
        ...

    def list_secrets(self, *, namespace: str, label_selector: str) -> list[SecretInfo]: ...

    def delete_secret(self, *, namespace: str, name: str) -> None:
        """Delete it; absent is not an error."""
        ...

    def list_namespace_contents(self, *, namespace: str) -> list[ObjectRef]:
        """Every object of every listable namespaced resource type still in ``namespace``."""
        ...

    def remove_finalizers(self, *, ref: ObjectRef) -> None:
        """Clear metadata.finalizers of that object; absent is not an error."""
        ...

    def finalize_namespace(self, *, name: str) -> NamespaceInfo | None:
        """Clear the namespace's metadata.finalizers and, through the finalize subresource,
        its spec.finalizers; None when it is gone."""
        ...

    def record_event(
        self, *, namespace: str, kind: str, name: str, reason: str, message: str, type: str = "Normal"
    ) -> None:
        """A core/v1 Event about that object, from DeployTag (kubectl describe shows it)."""
        ...


class Jobs(Protocol):
    def run_job(self, *, spec: JobSpec, timeout_seconds: float, log_lines: int) -> JobResult:
        """Replace any Job of that name, run it once (no retries) and wait until it finishes.

        A Job still running at the timeout is deleted and reported failed with
        reason ``Timeout``; the pod's last ``log_lines`` lines come back either way.
        """
        ...


class Cluster(Namespaces, Secrets, Quotas, Leases, Workloads, Scaling, Housekeeping, Jobs, Protocol):
    """All the capabilities above, as one real cluster provides them."""

    def describe(self) -> str:
        """Where this talks to (context and server), for messages; no secrets."""
        ...
