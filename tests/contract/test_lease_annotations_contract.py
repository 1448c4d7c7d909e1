"""Annotations on the per-environment Lease (where waiting runs record the newest deploy request):
written only at the resourceVersion read, so concurrent writers cannot both win, and never
disturbing who holds the lease. Runs against every backend in conftest (memory, fake API, real)."""

from __future__ import annotations

import threading

from cluster_backends import Backend

T0 = 1_700_000_000.25
KEY = "deploytag.dev/newest-request"
CONTENDERS = 6


def test_annotate_creates_a_free_lease_then_writes_only_at_the_version_read(
    backend: Backend, namespace: str
) -> None:
    cluster = backend.cluster
    created = cluster.annotate_lease(namespace=namespace, name="env", annotations={KEY: "a"}, version="")
    assert created is not None
    assert (created.holder, created.annotations[KEY]) == ("", "a")
    assert created.version
    # "" means "must not exist": a second creation loses.
    assert cluster.annotate_lease(namespace=namespace, name="env", annotations={KEY: "b"}, version="") is None

    merged = cluster.annotate_lease(
        namespace=namespace, name="env", annotations={"other": "x"}, version=created.version
    )
    assert merged is not None
    assert merged.annotations[KEY] == "a" and merged.annotations["other"] == "x"
    assert merged.version != created.version
    # A write based on a stale read is refused.
    stale = cluster.annotate_lease(
        namespace=namespace, name="env", annotations={KEY: "c"}, version=created.version
    )
    assert stale is None
    read = cluster.get_lease(namespace=namespace, name="env")
    assert read is not None and read.annotations[KEY] == "a" and read.version == merged.version


def test_a_free_annotated_lease_is_acquired_and_annotations_leave_the_holder_alone(
    backend: Backend, namespace: str
) -> None:
    cluster = backend.cluster
    cluster.annotate_lease(namespace=namespace, name="env", annotations={KEY: "waiting"}, version="")
    held = cluster.try_acquire_lease(
        namespace=namespace, name="env", holder="run-1", duration_seconds=15, now=T0
    )
    assert held is not None and held.holder == "run-1"
    assert held.annotations[KEY] == "waiting"  # taking the lease keeps what waiting runs wrote

    noted = cluster.annotate_lease(
        namespace=namespace, name="env", annotations={KEY: "newer"}, version=held.version
    )
    assert noted is not None
    assert (noted.holder, noted.renewed_at, noted.duration_seconds) == (held.holder, held.renewed_at, 15)
    # The holder renews although the lease changed since it last wrote it.
    renewed = cluster.try_acquire_lease(
        namespace=namespace, name="env", holder="run-1", duration_seconds=15, now=T0 + 5
    )
    assert renewed is not None and renewed.holder == "run-1"
    assert renewed.annotations[KEY] == "newer"
    assert (
        cluster.try_acquire_lease(
            namespace=namespace, name="env", holder="run-2", duration_seconds=15, now=T0 + 6
        )
        is None
    )
    cluster.release_lease(namespace=namespace, name="env", holder="run-1")
    after = cluster.get_lease(namespace=namespace, name="env")
    assert after is None or after.holder == ""


def test_racing_annotators_from_one_read_exactly_one_wins(backend: Backend, namespace: str) -> None:
    base = backend.cluster.annotate_lease(
        namespace=namespace, name="race", annotations={KEY: "0"}, version=""
    )
    assert base is not None
    clients = [backend.new_client() for _ in range(CONTENDERS)]
    for client in clients:
        client.describe()
    barrier = threading.Barrier(CONTENDERS)
    results: list[object] = [None] * CONTENDERS
    errors: list[BaseException] = []

    def contend(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = clients[i].annotate_lease(
                namespace=namespace, name="race", annotations={KEY: f"run-{i}"}, version=base.version
            )
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(CONTENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    winners = [i for i, r in enumerate(results) if r is not None]
    assert len(winners) == 1, results
    held = backend.cluster.get_lease(namespace=namespace, name="race")
    assert held is not None and held.annotations[KEY] == f"run-{winners[0]}"
