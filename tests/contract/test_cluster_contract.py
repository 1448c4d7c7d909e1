"""One contract for every Cluster: the in-memory fake, the real adapter on a fake API, a real cluster.

Each test runs once per backend (see ``cluster_backends.py``):

- ``memory``   MemoryCluster; always.
- ``fakeapi``  KubernetesCluster over HTTP against ``tests/fakekube``; when it is importable.
- ``real``     KubernetesCluster against the session's real cluster (``real_kube``, tests/realkube.py:
               ../shared/k8s, or what ``DEPLOYTAG_TEST_KUBECONFIG`` points at); always, and under
               CI a cluster that cannot start fails the tests.

Everything a test creates lives in a fresh ``deploytag-contract-*`` namespace that
is deleted afterwards. Workloads, pods and events are produced by real
controllers on a real cluster, by the fake API's rules, or seeded into the
memory fake; the expectations are the same. On the real cluster the diagnostics
of failing containers need its node (``real_node``), which pulls a busybox image
from its registry, and fails to pull a tag that registry lacks; the scheduler alone
decides Unschedulable. No cloud controller runs there, so the seeder writes the
LoadBalancer address into the Service's status as one would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from cluster_backends import Backend, time_key, wait_for

from deploytag.capabilities.verify import format_digest
from deploytag.core.errors import ClusterError, NotFoundError, RetryableClusterError
from deploytag.ports.cluster import (
    ENVIRONMENT_SELECTOR,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    Cluster,
    Diagnostics,
    LeaseInfo,
    PodState,
)

OURS = {MANAGED_BY_LABEL: MANAGED_BY_VALUE}
CONTENDERS = 8
T0 = 1_700_000_000.25  # a fixed "now" for leases: expiry is computed from the times we pass


def _ensure(cluster: Cluster, name: str, **annotations: str) -> None:
    cluster.ensure_namespace(name=name, labels=OURS, annotations=annotations)


# ---------------------------------------------------------------------------- namespaces


def test_ensure_namespace_creates_with_labels_and_annotations(backend: Backend) -> None:
    name = backend.new_namespace_name()
    info = backend.cluster.ensure_namespace(
        name=name, labels={**OURS, "team": "a"}, annotations={"deploytag.dev/branch": "feature/x"}
    )
    assert info.name == name
    assert info.phase == "Active"
    assert info.labels[MANAGED_BY_LABEL] == MANAGED_BY_VALUE
    assert info.annotations["deploytag.dev/branch"] == "feature/x"
    assert info.created_at  # RFC 3339 from the server
    assert backend.cluster.get_namespace(name=name) == info


def test_ensure_namespace_merges_into_an_existing_one(backend: Backend) -> None:
    name = backend.new_namespace_name()
    backend.cluster.ensure_namespace(
        name=name, labels={**OURS, "keep": "1"}, annotations={"deploytag.dev/a": "1"}
    )
    info = backend.cluster.ensure_namespace(
        name=name, labels={"team": "b"}, annotations={"deploytag.dev/b": "2", "deploytag.dev/a": "updated"}
    )
    # Real servers add kubernetes.io/metadata.name themselves.
    assert {k: v for k, v in info.labels.items() if not k.startswith("kubernetes.io/")} == {
        **OURS,
        "keep": "1",
        "team": "b",
    }
    assert {k: v for k, v in info.annotations.items() if k.startswith("deploytag.dev/")} == {
        "deploytag.dev/a": "updated",
        "deploytag.dev/b": "2",
    }


def test_invalid_namespace_name_is_refused(backend: Backend) -> None:
    with pytest.raises(ClusterError) as caught:
        _ensure(backend.cluster, "Not_A_Label")
    assert not caught.value.retryable
    assert "Not_A_Label" in caught.value.message


def test_get_missing_namespace_is_none(backend: Backend) -> None:
    assert backend.cluster.get_namespace(name=backend.new_namespace_name()) is None


def test_list_namespaces_by_label_selector(backend: Backend) -> None:
    mine, other = backend.new_namespace_name(), backend.new_namespace_name()
    run = backend.run_label
    backend.cluster.ensure_namespace(name=mine, labels={**OURS, "contract-run": run}, annotations={})
    backend.cluster.ensure_namespace(name=other, labels={"contract-run": run}, annotations={})

    listed = backend.cluster.list_namespaces(label_selector=f"{ENVIRONMENT_SELECTOR},contract-run={run}")
    assert [n.name for n in listed] == [mine]
    assert listed[0].labels[MANAGED_BY_LABEL] == MANAGED_BY_VALUE
    both = backend.cluster.list_namespaces(label_selector=f"contract-run={run}")
    assert sorted(n.name for n in both) == sorted([mine, other])
    not_ours = backend.cluster.list_namespaces(
        label_selector=f"contract-run={run},{MANAGED_BY_LABEL}!=deploytag"
    )
    assert [n.name for n in not_ours] == [other]
    set_based = backend.cluster.list_namespaces(
        label_selector=f"contract-run in (nothing, {run}),{MANAGED_BY_LABEL},!no-such-label"
    )
    assert [n.name for n in set_based] == [mine]


def test_patch_annotations_sets_and_removes(backend: Backend) -> None:
    name = backend.new_namespace_name()
    _ensure(backend.cluster, name, **{"deploytag.dev/a": "1", "deploytag.dev/b": "2"})
    info = backend.cluster.patch_namespace_annotations(
        name=name, annotations={"deploytag.dev/a": None, "deploytag.dev/c": "3", "deploytag.dev/gone": None}
    )
    assert "deploytag.dev/a" not in info.annotations
    assert info.annotations["deploytag.dev/b"] == "2"
    assert info.annotations["deploytag.dev/c"] == "3"
    again = backend.cluster.get_namespace(name=name)
    assert again is not None
    assert again.annotations == info.annotations


def test_patch_annotations_of_missing_namespace_is_not_found(backend: Backend) -> None:
    with pytest.raises(NotFoundError) as caught:
        backend.cluster.patch_namespace_annotations(
            name=backend.new_namespace_name(), annotations={"deploytag.dev/a": "1"}
        )
    assert caught.value.hint


def test_delete_namespace_and_wait_until_gone(backend: Backend) -> None:
    name = backend.new_namespace_name()
    _ensure(backend.cluster, name)
    backend.cluster.apply_secret(namespace=name, name="s", data={"K": "v"}, labels={}, annotations={})
    assert backend.cluster.delete_namespace(name=name, wait=True, timeout_seconds=backend.delete_timeout)
    assert backend.cluster.get_namespace(name=name) is None
    assert backend.cluster.get_secret_keys(namespace=name, name="s") is None


def test_delete_namespace_without_wait_is_terminating_then_gone(backend: Backend) -> None:
    name = backend.new_namespace_name()
    _ensure(backend.cluster, name)
    assert backend.cluster.delete_namespace(name=name, wait=False, timeout_seconds=0)
    seen = backend.cluster.get_namespace(name=name)
    assert seen is None or seen.phase == "Terminating"
    wait_for(lambda: backend.cluster.get_namespace(name=name) is None, timeout=backend.delete_timeout)


def test_ensure_namespace_that_is_terminating_is_retryable(backend: Backend) -> None:
    name = backend.new_namespace_name()
    _ensure(backend.cluster, name)
    backend.hold_terminating(name)
    backend.cluster.delete_namespace(name=name, wait=False, timeout_seconds=0)
    seen = backend.cluster.get_namespace(name=name)
    if seen is None:
        pytest.skip(f"{backend.id}: the namespace was gone at once, nothing to observe")
    with pytest.raises(RetryableClusterError) as caught:
        _ensure(backend.cluster, name)
    assert "being deleted" in str(caught.value)


def test_writes_into_a_terminating_namespace_are_retryable(backend: Backend) -> None:
    name = backend.new_namespace_name()
    _ensure(backend.cluster, name)
    backend.hold_terminating(name)
    assert backend.cluster.delete_namespace(name=name, wait=False, timeout_seconds=0)
    # A second delete while it terminates is fine too (v1.36 answers 200, older servers 409).
    assert backend.cluster.delete_namespace(name=name, wait=False, timeout_seconds=0)
    with pytest.raises(RetryableClusterError) as caught:
        backend.cluster.apply_secret(
            namespace=name, name="s", data={"K": "value-5678"}, labels={}, annotations={}
        )
    assert "being deleted" in caught.value.message
    assert "value-5678" not in str(caught.value)
    with pytest.raises(RetryableClusterError):
        backend.cluster.try_acquire_lease(
            namespace=name, name="env", holder="run-1", duration_seconds=30, now=T0
        )


def test_delete_namespace_times_out_while_it_is_stuck(backend: Backend) -> None:
    name = backend.new_namespace_name()
    _ensure(backend.cluster, name)
    if not backend.hold_terminating(name):
        pytest.skip(f"{backend.id}: cannot hold a namespace in Terminating")
    started = time.monotonic()
    assert backend.cluster.delete_namespace(name=name, wait=True, timeout_seconds=1.0) is False
    assert time.monotonic() - started < 10


def test_delete_missing_namespace_is_ok(backend: Backend) -> None:
    name = backend.new_namespace_name()
    assert backend.cluster.delete_namespace(name=name, wait=True, timeout_seconds=5)
    assert backend.cluster.delete_namespace(name=name, wait=False, timeout_seconds=0)


# ------------------------------------------------------------------------------- secrets


def test_apply_secret_creates_then_replaces_exactly_these_keys(backend: Backend, namespace: str) -> None:
    cluster = backend.cluster
    assert cluster.get_secret_keys(namespace=namespace, name="app-env") is None
    cluster.apply_secret(
        namespace=namespace,
        name="app-env",
        data={"DATABASE_URL": "postgres://u:p@h/db", "API_KEY": "sekrit-1", "EMPTY": ""},
        labels=OURS,
        annotations={"deploytag.dev/secret-versions": "staging/app@1"},
    )
    assert cluster.get_secret_keys(namespace=namespace, name="app-env") == [
        "API_KEY",
        "DATABASE_URL",
        "EMPTY",
    ]
    cluster.apply_secret(
        namespace=namespace,
        name="app-env",
        data={"API_KEY": "sekrit-2", "NEW": "ünïcode"},
        labels=OURS,
        annotations={},
    )
    assert cluster.get_secret_keys(namespace=namespace, name="app-env") == ["API_KEY", "NEW"]
    assert backend.read_secret(namespace=namespace, name="app-env") in (
        None,
        {"API_KEY": "sekrit-2", "NEW": "ünïcode"},
    )


def test_apply_secret_into_missing_namespace_fails_with_a_hint(backend: Backend) -> None:
    with pytest.raises((NotFoundError, ClusterError)) as caught:
        backend.cluster.apply_secret(
            namespace=backend.new_namespace_name(),
            name="s",
            data={"K": "value-1234"},
            labels={},
            annotations={},
        )
    assert caught.value.hint
    assert "value-1234" not in str(caught.value)


# -------------------------------------------------------------------------------- quotas


def test_quotas_apply_twice_and_delete(backend: Backend, namespace: str) -> None:
    cluster = backend.cluster
    for hard in ({"pods": "10", "requests.cpu": "1"}, {"pods": "20", "requests.cpu": "2"}):
        cluster.apply_resource_quota(namespace=namespace, name="deploytag", hard=hard, labels=OURS)
        cluster.apply_limit_range(
            namespace=namespace,
            name="deploytag",
            default_limits={"cpu": "500m", "memory": "512Mi"},
            default_requests={"cpu": "50m", "memory": "64Mi"},
            labels=OURS,
        )
    assert backend.read_quota(namespace=namespace, name="deploytag") in (
        None,
        {"pods": "20", "requests.cpu": "2"},
    )
    assert backend.has_limit_range(namespace=namespace, name="deploytag") in (None, True)
    cluster.delete_quotas(namespace=namespace, name="deploytag")
    assert backend.read_quota(namespace=namespace, name="deploytag") is None
    assert backend.has_limit_range(namespace=namespace, name="deploytag") in (None, False)
    cluster.delete_quotas(namespace=namespace, name="deploytag")  # already gone: still fine


# -------------------------------------------------------------------------------- leases


def test_lease_acquire_block_renew_release(backend: Backend, namespace: str) -> None:
    cluster = backend.cluster
    assert cluster.get_lease(namespace=namespace, name="env-a") is None

    first = cluster.try_acquire_lease(
        namespace=namespace, name="env-a", holder="run-1", duration_seconds=30, now=T0
    )
    assert isinstance(first, LeaseInfo)
    assert (first.holder, first.duration_seconds, first.transitions) == ("run-1", 30, 0)
    assert first.renewed_at == pytest.approx(T0, abs=1e-3)

    blocked = cluster.try_acquire_lease(
        namespace=namespace, name="env-a", holder="run-2", duration_seconds=30, now=T0 + 29
    )
    assert blocked is None

    renewed = cluster.try_acquire_lease(
        namespace=namespace, name="env-a", holder="run-1", duration_seconds=30, now=T0 + 20
    )
    assert renewed is not None
    assert renewed.holder == "run-1"
    assert renewed.renewed_at == pytest.approx(T0 + 20, abs=1e-3)
    assert renewed.transitions == 0
    # Renewal moved the expiry: still held at T0 + 45.
    assert (
        cluster.try_acquire_lease(
            namespace=namespace, name="env-a", holder="run-2", duration_seconds=30, now=T0 + 45
        )
        is None
    )

    cluster.release_lease(namespace=namespace, name="env-a", holder="run-2")  # not ours: no-op
    held = cluster.get_lease(namespace=namespace, name="env-a")
    assert held is not None
    assert held.holder == "run-1"

    cluster.release_lease(namespace=namespace, name="env-a", holder="run-1")
    after = cluster.get_lease(namespace=namespace, name="env-a")
    assert after is None or after.holder == ""
    free = cluster.try_acquire_lease(
        namespace=namespace, name="env-a", holder="run-2", duration_seconds=30, now=T0 + 46
    )
    assert free is not None
    assert free.holder == "run-2"
    cluster.release_lease(namespace=namespace, name="missing", holder="run-2")  # absent: no-op


def test_expired_lease_is_taken_over(backend: Backend, namespace: str) -> None:
    cluster = backend.cluster
    cluster.try_acquire_lease(
        namespace=namespace, name="env-b", holder="killed-run", duration_seconds=10, now=T0
    )
    taken = cluster.try_acquire_lease(
        namespace=namespace, name="env-b", holder="run-2", duration_seconds=60, now=T0 + 10
    )
    assert taken is not None
    assert (taken.holder, taken.duration_seconds, taken.transitions) == ("run-2", 60, 1)
    assert taken.renewed_at == pytest.approx(T0 + 10, abs=1e-3)
    assert cluster.get_lease(namespace=namespace, name="env-b") == taken
    # The killed run comes back late: it no longer holds the lease.
    assert (
        cluster.try_acquire_lease(
            namespace=namespace, name="env-b", holder="killed-run", duration_seconds=10, now=T0 + 11
        )
        is None
    )


def test_take_over_supersedes_only_the_holder_named(backend: Backend, namespace: str) -> None:
    cluster = backend.cluster
    assert (
        cluster.take_over_lease(
            namespace=namespace,
            name="env-c",
            holder="run-2",
            duration_seconds=30,
            now=T0,
            previous_holder="run-1",
        )
        is None
    )  # nothing to take over
    cluster.try_acquire_lease(namespace=namespace, name="env-c", holder="run-1", duration_seconds=30, now=T0)

    taken = cluster.take_over_lease(
        namespace=namespace,
        name="env-c",
        holder="run-2",
        duration_seconds=60,
        now=T0 + 1,
        previous_holder="run-1",
    )
    assert taken is not None
    assert (taken.holder, taken.duration_seconds, taken.transitions) == ("run-2", 60, 1)
    assert taken.renewed_at == pytest.approx(T0 + 1, abs=1e-3)
    assert cluster.get_lease(namespace=namespace, name="env-c") == taken

    stale = cluster.take_over_lease(
        namespace=namespace,
        name="env-c",
        holder="run-3",
        duration_seconds=30,
        now=T0 + 2,
        previous_holder="run-1",
    )
    assert stale is None  # run-1 no longer holds it
    # The superseded run finds out at its next renewal.
    assert (
        cluster.try_acquire_lease(
            namespace=namespace, name="env-c", holder="run-1", duration_seconds=30, now=T0 + 3
        )
        is None
    )


def test_racing_take_overs_exactly_one_wins(backend: Backend, namespace: str) -> None:
    backend.cluster.try_acquire_lease(
        namespace=namespace, name="race", holder="old", duration_seconds=600, now=T0
    )
    results = _race(
        backend,
        lambda client, i: client.take_over_lease(
            namespace=namespace,
            name="race",
            holder=f"run-{i}",
            duration_seconds=30,
            now=T0 + 1,
            previous_holder="old",
        ),
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1, results
    held = backend.cluster.get_lease(namespace=namespace, name="race")
    assert held is not None
    assert (held.holder, held.transitions) == (winners[0].holder, 1)


def _race(backend: Backend, attempt: Callable[[Cluster, int], LeaseInfo | None]) -> list[LeaseInfo | None]:
    """Run ``attempt`` from CONTENDERS clients at once (a barrier lines them up)."""
    clients = [backend.new_client() for _ in range(CONTENDERS)]
    for client in clients:
        client.describe()  # load the configuration first, so the threads race on the lease alone
    barrier = threading.Barrier(CONTENDERS)
    results: list[LeaseInfo | None] = [None] * CONTENDERS
    errors: list[BaseException] = []

    def contend(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = attempt(clients[i], i)
        except BaseException as e:  # reported below; a thread's exception is otherwise lost
            errors.append(e)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(CONTENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.parametrize("start", ["free", "expired"])
def test_racing_acquirers_exactly_one_wins(backend: Backend, namespace: str, start: str) -> None:
    if start == "expired":
        backend.cluster.try_acquire_lease(
            namespace=namespace, name="race", holder="old", duration_seconds=5, now=T0
        )
    results = _race(
        backend,
        lambda client, i: client.try_acquire_lease(
            namespace=namespace, name="race", holder=f"run-{i}", duration_seconds=30, now=T0 + 100
        ),
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1, results
    held = backend.cluster.get_lease(namespace=namespace, name="race")
    assert held is not None
    assert held.holder == winners[0].holder
    assert held.transitions == (1 if start == "expired" else 0)


# ----------------------------------------------------------------------------- workloads


def test_list_services_reports_load_balancer_address(backend: Backend, namespace: str) -> None:
    backend.seed.load_balancer(namespace=namespace, name="frontend", port=80)
    backend.seed.cluster_ip(namespace=namespace, name="backend", port=8080)

    def ready() -> bool:
        found = {s.name: s for s in backend.cluster.list_services(namespace=namespace)}
        return bool(found.get("frontend") and found["frontend"].hostnames)

    wait_for(ready, timeout=backend.address_timeout)
    services = {s.name: s for s in backend.cluster.list_services(namespace=namespace)}
    assert services["frontend"].type == "LoadBalancer"
    assert list(services["frontend"].ports) == [80]
    assert all(h for h in services["frontend"].hostnames)
    assert services["backend"].type == "ClusterIP"
    assert list(services["backend"].hostnames) == []
    assert list(services["backend"].ports) == [8080]


def test_list_workloads_of_an_empty_namespace(backend: Backend, namespace: str) -> None:
    assert backend.cluster.list_workloads(namespace=namespace) == []
    assert backend.cluster.list_services(namespace=namespace) == [] or backend.real
    empty = backend.cluster.collect_diagnostics(namespace=namespace, log_lines=10)
    assert (list(empty.workloads), list(empty.pods), dict(empty.logs)) == ([], [], {})


def test_resource_requests_of_each_workload_kind(backend: Backend, namespace: str) -> None:
    """What the cost estimate reads: per-pod requests and the pods each workload keeps."""
    from cluster_backends import REQUESTED
    from msgspec.structs import replace

    backend.seed.requesting_workloads(namespace=namespace)
    expected = [replace(u, namespace=namespace) for u in REQUESTED]
    assert backend.cluster.list_resource_requests(namespace=namespace) == expected
    everywhere = backend.cluster.list_resource_requests(namespace=None)
    assert [u for u in everywhere if u.namespace == namespace] == expected


def test_diagnostics_show_why_a_rollout_fails(backend: Backend, namespace: str) -> None:
    backend.require_node()
    backend.seed.bad_image(namespace=namespace, name="web", image=backend.seed.bad_image_ref)
    backend.seed.crash_loop(namespace=namespace, name="worker", marker="contract-crash-marker")

    def owned(d: Diagnostics, deployment: str) -> PodState | None:
        return next((p for p in d.pods if p.owner.startswith(f"ReplicaSet/{deployment}-")), None)

    def complete(d: Diagnostics) -> bool:
        web, worker = owned(d, "web"), owned(d, "worker")
        return bool(
            web
            and worker
            and any(c.waiting_reason in ("ErrImagePull", "ImagePullBackOff") for c in web.containers)
            and any(c.restart_count > 0 and c.exit_code is not None for c in worker.containers)
            and any("contract-crash-marker" in text for text in d.logs.values())
            and any(e.type == "Warning" for e in d.events)
        )

    holder: list[Diagnostics] = []

    def poll() -> bool:
        holder[:] = [backend.cluster.collect_diagnostics(namespace=namespace, log_lines=5)]
        return complete(holder[0])

    wait_for(poll, timeout=backend.rollout_timeout, fail=False)
    diag = holder[0]
    workloads = {w.name: w for w in diag.workloads}
    assert workloads["web"].kind == "Deployment"
    assert not workloads["web"].rolled_out
    assert workloads["web"].selector  # matchLabels
    assert workloads["web"].desired == 1
    assert workloads["web"].ready == 0
    assert "Available" in workloads["web"].conditions or "Progressing" in workloads["web"].conditions

    web_pod = owned(diag, "web")
    assert web_pod is not None, diag.pods
    assert web_pod.phase == "Pending"
    assert not web_pod.ready
    (web_container,) = web_pod.containers
    assert web_container.waiting_reason in ("ErrImagePull", "ImagePullBackOff")
    assert web_container.waiting_message
    assert f"{web_pod.name}/{web_container.name}" not in diag.logs  # never ran, nothing to read

    worker_pod = owned(diag, "worker")
    assert worker_pod is not None, diag.pods
    (worker_container,) = worker_pod.containers
    assert worker_container.restart_count > 0
    assert worker_container.exit_code == 3
    assert worker_container.terminated_reason == "Error"
    log = diag.logs[f"{worker_pod.name}/{worker_container.name}"]
    assert "contract-crash-marker" in log
    assert len(log.splitlines()) <= 5

    assert any(e.type == "Warning" and e.object_name == web_pod.name for e in diag.events)
    assert any(e.type == "Normal" for e in diag.events)
    seen = [e.last_seen for e in diag.events]
    assert all(seen)
    assert seen == sorted(seen, key=time_key)


def test_diagnostics_show_a_container_killed_at_its_memory_limit(backend: Backend, namespace: str) -> None:
    backend.require_node()  # the node's kernel does the killing
    backend.seed.oom_killed(namespace=namespace, name="hog")

    def killed() -> PodState | None:
        pods = backend.cluster.collect_diagnostics(namespace=namespace, log_lines=5).pods
        return next((p for p in pods if any(c.terminated_reason == "OOMKilled" for c in p.containers)), None)

    wait_for(lambda: killed() is not None, timeout=backend.rollout_timeout)
    diag = backend.cluster.collect_diagnostics(namespace=namespace, log_lines=5)
    pod = next(p for p in diag.pods if p.owner.startswith("ReplicaSet/hog-"))
    (container,) = pod.containers
    assert container.exit_code == 137
    # The digest a failed deploy prints says why, whether the container waits to restart or
    # runs again (Ready for a moment on a real kubelet).
    assert "OOMKilled" in format_digest(diag)


def test_diagnostics_name_an_unschedulable_pod(backend: Backend, namespace: str) -> None:
    backend.seed.unschedulable(namespace=namespace, name="huge")

    def found() -> bool:
        pods = backend.cluster.collect_diagnostics(namespace=namespace, log_lines=5).pods
        return any(p.unschedulable_reason for p in pods)

    assert wait_for(found, timeout=backend.rollout_timeout, fail=False), "no unschedulable reason appeared"
    pod = next(p for p in backend.cluster.collect_diagnostics(namespace=namespace, log_lines=5).pods)
    assert pod.phase == "Pending"
    assert pod.conditions.get("PodScheduled") == "False"
    # the scheduler's words: "0/1 nodes are available: 1 Insufficient cpu." with a node, and
    # "no nodes available to schedule pods" on a control plane without one
    reason = pod.unschedulable_reason
    assert "Insufficient" in reason or "nodes are available" in reason or "no nodes available" in reason


def test_describe_names_where_it_talks_to(backend: Backend) -> None:
    text = backend.cluster.describe()
    assert text
    assert backend.describe_contains in text
