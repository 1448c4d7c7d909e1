"""The orphan sweep's cluster parts on the real API server: Leases, kaniko credential Secrets, and a
namespace stuck in Terminating (a ConfigMap with a custom finalizer holds it) cleared by force_finalize.

Each test uses its own lock namespace and app, so the shared cluster's other Leases never show up.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploytag.adapters.kubernetes import KubernetesCluster
from deploytag.core.errors import PlanError
from deploytag.ports.cluster import ENVIRONMENT_SELECTOR
from deploytag.service import orphans
from fleetsetup import configured, example_repo, live_environment, namespace_for, new_app
from realkube import RealKube

pytestmark = pytest.mark.cluster
HOLD = "example.com/hold"
HOUR = 3600.0


class Later:
    """The system clock moved ``ahead`` seconds on: what was just created looks old."""

    def __init__(self, ahead: float) -> None:
        self.ahead = ahead

    def now(self) -> float:
        return time.time() + self.ahead

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Tracked(KubernetesCluster):
    """The real adapter, remembering the namespaces a test made so they are removed afterwards."""

    created: list[str]


@pytest.fixture
def kube(real_kube: RealKube) -> Iterator[tuple[Tracked, Any]]:
    from kubernetes import client, config

    cluster = Tracked(kubeconfig=str(real_kube.kubeconfig), context=real_kube.context)
    cluster.created = []
    sdk = config.new_client_from_config(config_file=str(real_kube.kubeconfig), context=real_kube.context)
    yield cluster, sdk
    for name in cluster.created:
        with contextlib.suppress(client.ApiException):  # gone already
            client.CoreV1Api(sdk).patch_namespace(name, {"metadata": {"finalizers": None}})
        cluster.delete_namespace(name=name, wait=False, timeout_seconds=0)
    sdk.close()


def _namespace(cluster: Tracked, name: str, **labels: str) -> str:
    cluster.ensure_namespace(name=name, labels=labels, annotations={})
    cluster.created.append(name)
    return name


def test_leases_and_kaniko_secrets_of_gone_environments_are_found_and_removed(
    tmp_path: Path, kube: tuple[Tracked, Any]
) -> None:
    cluster, _ = kube
    app = new_app()
    locks = _namespace(cluster, f"{app}-locks")
    environ = {"DEPLOYTAG_CLUSTER__LOCK_NAMESPACE": locks, "DEPLOYTAG_BUILD__BUILDER": "kaniko"}
    loaded, now_providers = configured(example_repo(tmp_path), app=app, cluster=cluster, environ=environ)
    later = Later(2 * HOUR)  # past min_age and the build timeout
    _, providers = configured(
        example_repo(tmp_path / "b"), app=app, cluster=cluster, environ=environ, clock=later
    )
    live = live_environment(cluster, loaded, "feature/live")
    cluster.created.append(live)
    gone = namespace_for(loaded, "feature/gone")
    running = namespace_for(loaded, "feature/starting")
    for namespace in (live, gone):
        assert cluster.try_acquire_lease(
            namespace=locks, name=f"deploytag-{namespace}", holder="r", duration_seconds=15, now=time.time()
        )
    # A deploy creating its environment right now holds its lease (at the sweep's time too).
    assert cluster.try_acquire_lease(
        namespace=locks, name=f"deploytag-{running}", holder="busy", duration_seconds=15, now=later.now()
    )
    kaniko = {"app.kubernetes.io/managed-by": "deploytag", "deploytag.dev/job": "kaniko"}
    cluster.apply_secret(
        namespace=locks, name="kaniko-0123-docker", data={"config.json": "{}"}, labels=kaniko, annotations={}
    )
    cluster.apply_secret(
        namespace=locks,
        name="not-ours",
        data={"k": "v"},
        labels={"deploytag.dev/job": "kaniko"},
        annotations={},
    )

    # Just created: the default min_age protects everything.
    assert (
        orphans.find_orphans(
            loaded=loaded, providers=now_providers, kinds=frozenset({"lease", "kaniko-secret"})
        )
        == []
    )

    found = orphans.find_orphans(
        loaded=loaded, providers=providers, kinds=frozenset({"lease", "kaniko-secret"})
    )
    assert [(o.kind, o.name, o.where) for o in found] == [
        ("lease", f"deploytag-{gone}", locks),
        ("kaniko-secret", "kaniko-0123-docker", locks),
    ]
    assert all(o.reason for o in found)
    dry = orphans.remove_orphans(loaded=loaded, providers=providers, orphans=found, dry_run=True)
    assert [(r.removed, r.dry_run) for r in dry] == [(False, True), (False, True)]
    assert cluster.get_lease(namespace=locks, name=f"deploytag-{gone}") is not None

    removed = orphans.remove_orphans(loaded=loaded, providers=providers, orphans=found)
    assert [(r.removed, r.error) for r in removed] == [(True, ""), (True, "")]
    leases = {
        lease.name for lease in cluster.list_leases(namespace=locks, label_selector=ENVIRONMENT_SELECTOR)
    }
    assert leases == {f"deploytag-{live}", f"deploytag-{running}"}
    assert cluster.get_secret_keys(namespace=locks, name="kaniko-0123-docker") is None
    assert cluster.get_secret_keys(namespace=locks, name="not-ours") == ["k"]


def test_a_lease_taken_after_the_listing_is_not_removed(tmp_path: Path, kube: tuple[Tracked, Any]) -> None:
    cluster, _ = kube
    app = new_app()
    locks = _namespace(cluster, f"{app}-locks")
    environ = {"DEPLOYTAG_CLUSTER__LOCK_NAMESPACE": locks}
    loaded, providers = configured(
        example_repo(tmp_path), app=app, cluster=cluster, environ=environ, clock=Later(HOUR)
    )
    name = f"deploytag-{namespace_for(loaded, 'feature/back')}"
    assert cluster.try_acquire_lease(
        namespace=locks, name=name, holder="old", duration_seconds=15, now=time.time() - 2 * HOUR
    )
    [orphan] = orphans.find_orphans(
        loaded=loaded, providers=providers, kinds=frozenset({"lease"}), min_age_seconds=60
    )
    # The branch is pushed again: a new run takes the lease before the sweep removes it.
    assert cluster.try_acquire_lease(
        namespace=locks, name=name, holder="new", duration_seconds=15, now=time.time()
    )
    [result] = orphans.remove_orphans(loaded=loaded, providers=providers, orphans=[orphan])
    assert not result.removed and "changed since listed" in result.error
    lease = cluster.get_lease(namespace=locks, name=name)
    assert lease is not None and lease.holder == "new"


def test_stuck_namespace_is_reported_and_force_finalized(tmp_path: Path, kube: tuple[Tracked, Any]) -> None:
    from kubernetes import client

    cluster, sdk = kube
    core = client.CoreV1Api(sdk)
    app = new_app()
    loaded, providers = configured(example_repo(tmp_path), app=app, cluster=cluster)
    namespace = live_environment(cluster, loaded, "feature/stuck")
    cluster.created.append(namespace)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "held", "finalizers": [HOLD]}})
    with pytest.raises(PlanError, match="not being deleted"):
        orphans.force_finalize(
            loaded=loaded, providers=providers, namespace=namespace, actor="user:t", reason="x"
        )
    cluster.delete_namespace(name=namespace, wait=False, timeout_seconds=0)

    def reported() -> list[orphans.StuckNamespace]:
        return [
            s
            for s in orphans.stuck_namespaces(loaded=loaded, providers=providers)
            if s.namespace == namespace
        ]

    deadline = time.monotonic() + 60
    while not (
        reported()
        and any(
            c.type == "NamespaceFinalizersRemaining" and c.status == "True" for c in reported()[0].conditions
        )
    ):
        assert time.monotonic() < deadline, "the namespace controller never reported the finalizer"
        time.sleep(0.5)
    [stuck] = reported()
    assert (stuck.branch, stuck.app) == ("feature/stuck", app) and stuck.deleting_since
    assert [(h.kind, h.name, h.finalizers) for h in stuck.holding] == [("ConfigMap", "held", (HOLD,))]
    assert any(HOLD in c.message for c in stuck.conditions)
    assert orphans.stuck_namespaces(loaded=loaded, providers=providers, older_than_seconds=HOUR) == [] or all(
        s.namespace != namespace
        for s in orphans.stuck_namespaces(loaded=loaded, providers=providers, older_than_seconds=HOUR)
    )

    result = orphans.force_finalize(
        loaded=loaded,
        providers=providers,
        namespace=namespace,
        actor="user:alice",
        reason="admission webhook gone",
    )
    assert [(h.kind, h.name) for h in result.cleared] == [("ConfigMap", "held")]
    assert result.gone and result.to_dict()["actor"] == "user:alice"
    events = core.list_namespaced_event("default", field_selector=f"involvedObject.name={namespace}").items
    assert [(e.reason, e.type) for e in events] == [("ForceFinalized", "Warning")]
    assert "user:alice" in events[0].message and "admission webhook gone" in events[0].message
    again = orphans.force_finalize(
        loaded=loaded, providers=providers, namespace=namespace, actor="user:alice", reason="x"
    )
    assert again.gone and again.cleared == ()


def test_force_finalize_refuses_a_namespace_that_is_not_ours(
    tmp_path: Path, kube: tuple[Tracked, Any]
) -> None:
    cluster, _ = kube
    app = new_app()
    loaded, providers = configured(example_repo(tmp_path), app=app, cluster=cluster)
    foreign = _namespace(cluster, f"{app}-{secrets.token_hex(2)}")
    cluster.delete_namespace(name=foreign, wait=False, timeout_seconds=0)
    with pytest.raises(PlanError, match="not managed by DeployTag"):
        orphans.force_finalize(
            loaded=loaded, providers=providers, namespace=foreign, actor="user:t", reason="x"
        )
