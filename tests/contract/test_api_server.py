"""What the API server itself decides, checked on the real server and on fakekube alike.

Conflicts, validation, selectors, patches, watches, namespace finalization, garbage collection:
DeployTag relies on each, and the real kube-apiserver and controller-manager (``real_kube``) are
the authority. Every test also runs against tests/fakekube, the README's offline sandbox, so
the imitation cannot drift from the server it imitates. Admission (ResourceQuota, LimitRange)
is checked on the real server only: fakekube has no admission chain, and the sandbox does not
need one.

Objects are created through the official client in a fresh namespace per test; controllers'
results are polled for, since on a real cluster they arrive asynchronously.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cluster_backends import wait_for
from kubernetes import client, config, watch

from deploytag.adapters.kubernetes import KubernetesCluster
from deploytag.core.config import QuotaConfig
from realkube import RealKube

SETTLE = 60.0  # the most any controller below takes on a loaded 2-core machine


@dataclass
class Server:
    id: str
    api: client.ApiClient
    ns: str
    kubeconfig: str
    context: str | None

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)


def _status(exc: client.ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.body)
    return body


def _open(request: pytest.FixtureRequest, which: str) -> tuple[str, str | None]:
    if which == "fakekube":
        fake = request.getfixturevalue("fake_api")
        return str(fake.kubeconfig), None
    kube: RealKube = request.getfixturevalue("real_kube")
    return str(kube.kubeconfig), kube.context


def _server(request: pytest.FixtureRequest, which: str) -> Iterator[Server]:
    kubeconfig, context = _open(request, which)
    api = config.new_client_from_config(config_file=kubeconfig, context=context, persist_config=False)
    ns = f"dt-api-{uuid.uuid4().hex[:10]}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": ns}})
    try:
        yield Server(which, api, ns, kubeconfig, context)
    finally:
        core = client.CoreV1Api(api)
        try:
            core.patch_namespace(ns, {"metadata": {"finalizers": None}})
            core.delete_namespace(ns)
        except client.ApiException as e:
            if e.status not in (404, 409):
                raise
        api.close()


@pytest.fixture(params=["fakekube", pytest.param("real", marks=pytest.mark.cluster)])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    yield from _server(request, request.param)


@pytest.fixture
def real_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    yield from _server(request, "real")


def _deployment(name: str, image: str = "registry.invalid/app:1", replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [{"name": "main", "image": image}],
                    "terminationGracePeriodSeconds": 0,  # nothing to wait for when deleted
                },
            },
        },
    }


def _raises(status: int, call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(client.ApiException) as caught:
        call()
    assert caught.value.status == status, caught.value.body
    return _status(caught.value)


# ------------------------------------------------------------------------------ REST semantics


def test_crud_conflicts_and_not_found(server: Server) -> None:
    core, ns = server.core, server.ns
    created = core.create_namespaced_config_map(ns, {"metadata": {"name": "settings"}, "data": {"a": "1"}})
    assert created.metadata.uid
    assert created.metadata.creation_timestamp is not None

    exists = _raises(409, lambda: core.create_namespaced_config_map(ns, {"metadata": {"name": "settings"}}))
    assert exists["reason"] == "AlreadyExists"
    assert exists["message"] == 'configmaps "settings" already exists'

    created.data["a"] = "2"
    replaced = core.replace_namespaced_config_map("settings", ns, created)
    assert replaced.data == {"a": "2"}
    assert replaced.metadata.resource_version != created.metadata.resource_version

    # The same, now stale, resourceVersion again: optimistic concurrency refuses it.
    stale = _raises(409, lambda: core.replace_namespaced_config_map("settings", ns, created))
    assert stale["reason"] == "Conflict"
    assert "the object has been modified" in stale["message"]

    core.delete_namespaced_config_map("settings", ns)
    gone = _raises(404, lambda: core.read_namespaced_config_map("settings", ns))
    assert (gone["kind"], gone["reason"], gone["code"]) == ("Status", "NotFound", 404)
    assert gone["details"] == {"name": "settings", "kind": "configmaps"}

    missing = _raises(
        404, lambda: core.create_namespaced_secret(f"{ns}-nowhere", {"metadata": {"name": "s"}})
    )
    assert missing["message"] == f'namespaces "{ns}-nowhere" not found'


def test_lease_optimistic_concurrency(server: Server) -> None:
    leases = client.CoordinationV1Api(server.api)
    lease = leases.create_namespaced_lease(
        server.ns, {"metadata": {"name": "lock"}, "spec": {"holderIdentity": "a", "leaseDurationSeconds": 30}}
    )
    results: list[int] = []

    def take(holder: str) -> None:
        body = client.V1Lease(metadata=lease.metadata, spec=client.V1LeaseSpec(holder_identity=holder))
        try:
            leases.replace_namespaced_lease("lock", server.ns, body)
            results.append(200)
        except client.ApiException as exc:
            results.append(exc.status)

    threads = [threading.Thread(target=take, args=(f"h{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409, 409, 409]


def test_field_validation_is_422_with_the_field(server: Server) -> None:
    core, apps, ns = server.core, server.apps, server.ns
    bad_ns = _raises(422, lambda: core.create_namespace({"metadata": {"name": "Feature/Login"}}))
    assert "RFC 1123 label" in bad_ns["message"]
    bad_label = _raises(
        422,
        lambda: core.create_namespaced_config_map(
            ns, {"metadata": {"name": "x", "labels": {"branch": "feature/login"}}}
        ),
    )
    assert bad_label["reason"] == "Invalid"
    assert [c["field"] for c in bad_label["details"]["causes"]] == ["metadata.labels"]
    bad_key = _raises(
        422, lambda: core.create_namespaced_config_map(ns, {"metadata": {"name": "y"}, "data": {"a/b": "1"}})
    )
    assert [c["field"] for c in bad_key["details"]["causes"]] == ["data[a/b]"]

    mismatched = _deployment("web")
    mismatched["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    invalid = _raises(422, lambda: apps.create_namespaced_deployment(ns, mismatched))
    assert invalid["details"]["kind"] == "Deployment"
    assert "spec.template.metadata.labels" in [c["field"] for c in invalid["details"]["causes"]]
    assert "`selector` does not match template `labels`" in invalid["message"]

    apps.create_namespaced_deployment(ns, _deployment("web"))
    moved = _deployment("web")
    moved["spec"]["selector"] = {"matchLabels": {"app": "web", "v": "2"}}
    moved["spec"]["template"]["metadata"]["labels"] = {"app": "web", "v": "2"}
    immutable = _raises(422, lambda: apps.replace_namespaced_deployment("web", ns, moved))
    assert "field is immutable" in immutable["message"]


def test_label_selectors(server: Server) -> None:
    core, ns = server.core, server.ns
    for name, labels in {
        "a": {"env": "prod", "tier": "web"},
        "b": {"env": "dev", "tier": "web"},
        "c": {"env": "qa"},
        "d": {},
    }.items():
        core.create_namespaced_config_map(ns, {"metadata": {"name": name, "labels": labels}})

    def names(selector: str) -> list[str]:
        items = core.list_namespaced_config_map(ns, label_selector=selector).items
        # controllers add their own (kube-root-ca.crt, and openshift-service-ca.crt on this build)
        return [i.metadata.name for i in items if i.metadata.name in "abcd"]

    assert names("env=prod") == ["a"]
    assert names("env==dev") == ["b"]
    assert names("env!=prod") == ["b", "c", "d"]
    assert names("env in (dev, qa)") == ["b", "c"]
    assert names("env notin (dev,qa)") == ["a", "d"]
    assert names("tier") == ["a", "b"]
    assert names("!tier") == ["c", "d"]
    assert names("tier=web,env!=dev") == ["a"]
    _raises(400, lambda: core.list_namespaced_config_map(ns, label_selector="env in prod"))


def test_field_selector_pagination_and_all_namespaces(server: Server) -> None:
    core, ns = server.core, server.ns
    for i in range(5):
        core.create_namespaced_secret(ns, {"metadata": {"name": f"s{i}"}, "stringData": {"k": "v"}})
    by_name = core.list_namespaced_secret(ns, field_selector="metadata.name=s3").items
    assert [s.metadata.name for s in by_name] == ["s3"]
    first = core.list_namespaced_secret(ns, limit=2)
    assert [s.metadata.name for s in first.items] == ["s0", "s1"]
    assert first.metadata.remaining_item_count == 3
    second = core.list_namespaced_secret(ns, limit=2, _continue=first.metadata._continue)
    assert [s.metadata.name for s in second.items] == ["s2", "s3"]
    everywhere = core.list_secret_for_all_namespaces(field_selector=f"metadata.namespace={ns},type=Opaque")
    assert len(everywhere.items) == 5
    unsupported = _raises(400, lambda: core.list_namespaced_secret(ns, field_selector="data.k=abc"))
    assert unsupported["message"] == "field label not supported: data.k"
    unescaped = _raises(400, lambda: core.list_namespaced_secret(ns, field_selector="metadata.name=a=b"))
    assert unescaped["message"] == "invalid field selector: unescaped character in value: 61"
    # stringData is written into data, base64-encoded
    assert core.read_namespaced_secret("s0", ns).data == {"k": "dg=="}


def test_patch_flavours(server: Server) -> None:
    apps, ns = server.apps, server.ns
    apps.create_namespaced_deployment(ns, _deployment("web"))
    assert apps.read_namespaced_deployment("web", ns).metadata.generation == 1

    # strategic merge: containers merge by name, other fields survive
    patched = apps.patch_namespaced_deployment(
        "web", ns, {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "x/y:2"}]}}}}
    )
    container = patched.spec.template.spec.containers[0]
    assert (container.image, container.termination_message_path) == ("x/y:2", "/dev/termination-log")
    assert patched.metadata.generation == 2

    # merge patch on metadata only: the generation stays
    labelled = apps.patch_namespaced_deployment(
        "web", ns, {"metadata": {"labels": {"team": "a"}}}, _content_type="application/merge-patch+json"
    )
    assert labelled.metadata.labels == {"app": "web", "team": "a"}
    assert labelled.metadata.generation == 2

    scaled = apps.patch_namespaced_deployment(
        "web",
        ns,
        [{"op": "replace", "path": "/spec/replicas", "value": 3}],
        _content_type="application/json-patch+json",
    )
    assert scaled.spec.replicas == 3

    # server-side apply creates, then updates, and drops what the manager stopped applying
    core = server.core
    applied: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "ssa"},
        "data": {"a": "1", "b": "2"},
    }
    core.patch_namespaced_config_map(
        "ssa", ns, applied, field_manager="tests", _content_type="application/apply-patch+yaml"
    )
    applied["data"] = {"a": "10"}
    result = core.patch_namespaced_config_map(
        "ssa", ns, applied, field_manager="tests", _content_type="application/apply-patch+yaml"
    )
    assert result.data == {"a": "10"}


def test_watch_streams_changes(server: Server) -> None:
    core, ns = server.core, server.ns
    start = core.list_namespaced_config_map(ns).metadata.resource_version

    def writer() -> None:
        time.sleep(0.1)
        core.create_namespaced_config_map(ns, {"metadata": {"name": "w", "labels": {"watched": "yes"}}})
        core.create_namespaced_config_map(ns, {"metadata": {"name": "other"}})
        core.patch_namespaced_config_map("w", ns, {"data": {"x": "1"}})
        core.patch_namespaced_config_map("w", ns, {"metadata": {"labels": {"watched": "no"}}})

    thread = threading.Thread(target=writer)
    thread.start()
    seen = []
    stream = watch.Watch().stream(
        core.list_namespaced_config_map,
        ns,
        label_selector="watched=yes",
        resource_version=start,
        timeout_seconds=5,
    )
    for event in stream:
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            break
    thread.join()
    # leaving the selector reads as DELETED
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


def test_new_namespace_gets_a_default_service_account_and_root_ca(server: Server) -> None:
    core, ns = server.core, server.ns

    def has(read: Callable[[], Any]) -> bool:
        try:
            return bool(read())
        except client.ApiException as e:
            if e.status == 404:
                return False
            raise

    # Controllers add both shortly after the namespace appears.
    wait_for(lambda: has(lambda: core.read_namespaced_service_account("default", ns)), timeout=SETTLE)
    wait_for(lambda: has(lambda: core.read_namespaced_config_map("kube-root-ca.crt", ns)), timeout=SETTLE)
    assert "ca.crt" in core.read_namespaced_config_map("kube-root-ca.crt", ns).data


# ------------------------------------------------------------- namespace finalization, GC


def _namespace_gone(core: client.CoreV1Api, ns: str) -> bool:
    try:
        core.read_namespace(ns)
    except client.ApiException as e:
        if e.status == 404:
            return True
        raise
    return False


def test_namespace_deletion_lifecycle(server: Server) -> None:
    """A held object keeps the namespace Terminating long enough to look at it, on any server."""
    core, ns = server.core, server.ns
    server.apps.create_namespaced_deployment(ns, _deployment("web"))
    core.create_namespaced_config_map(ns, {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    try:
        _look_at_a_terminating_namespace(server)
    finally:
        core.patch_namespaced_config_map("held", ns, {"metadata": {"finalizers": None}})
    wait_for(lambda: _namespace_gone(core, ns), timeout=SETTLE)

    protected = _raises(403, lambda: core.delete_namespace("default"))
    assert "may not be deleted" in protected["message"]


def _look_at_a_terminating_namespace(server: Server) -> None:
    core, ns = server.core, server.ns
    core.delete_namespace(ns)
    namespace = core.read_namespace(ns)
    assert namespace.status.phase == "Terminating"
    assert namespace.metadata.deletion_timestamp is not None

    late = _raises(403, lambda: core.create_namespaced_config_map(ns, {"metadata": {"name": "late"}}))
    assert "because it is being terminated" in late["message"]
    # A second delete while it terminates answers with the namespace, unchanged (v1.36; older
    # servers answered 409, which KubernetesCluster.delete_namespace accepts too).
    again = core.delete_namespace(ns, _preload_content=False)  # the SDK would read it as a Status
    assert again.status == 200
    assert json.loads(again.data)["status"]["phase"] == "Terminating"

    # The namespace controller empties it, all but the held object, and says so.
    def emptied() -> bool:
        left = (
            server.apps.list_namespaced_deployment(ns).items
            + server.apps.list_namespaced_replica_set(ns).items
        )
        conditions = {c.type: c for c in core.read_namespace(ns).status.conditions or []}
        remaining = conditions.get("NamespaceFinalizersRemaining")
        return not left and remaining is not None and remaining.status == "True"

    wait_for(emptied, timeout=SETTLE)
    held = core.read_namespaced_config_map("held", ns)
    assert held.metadata.deletion_timestamp is not None


def test_metadata_finalizer_holds_a_terminating_namespace(server: Server) -> None:
    core, ns = server.core, server.ns
    core.patch_namespace(ns, {"metadata": {"finalizers": ["example.com/hold"]}})
    core.create_namespaced_config_map(ns, {"metadata": {"name": "content"}})
    core.delete_namespace(ns)

    def finalized() -> bool:
        held = core.read_namespace(ns)
        return not held.spec.finalizers and not core.list_namespaced_config_map(ns).items

    wait_for(finalized, timeout=SETTLE)
    held = core.read_namespace(ns)
    assert held.status.phase == "Terminating"
    conditions = {c.type: c.status for c in held.status.conditions}
    assert conditions["NamespaceContentRemaining"] == "False"
    core.patch_namespace(ns, {"metadata": {"finalizers": None}})
    wait_for(lambda: _namespace_gone(core, ns), timeout=SETTLE)


def test_garbage_collector_deletes_dependents(server: Server) -> None:
    core, apps, ns = server.core, server.apps, server.ns
    owner = core.create_namespaced_config_map(ns, {"metadata": {"name": "owner"}})
    reference = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
    core.create_namespaced_secret(ns, {"metadata": {"name": "dependent", "ownerReferences": [reference]}})
    core.delete_namespaced_config_map("owner", ns)  # background propagation, the default
    wait_for(
        lambda: not core.list_namespaced_secret(ns, field_selector="metadata.name=dependent").items,
        timeout=SETTLE,
    )

    apps.create_namespaced_deployment(ns, _deployment("web"))
    wait_for(lambda: bool(core.list_namespaced_pod(ns, label_selector="app=web").items), timeout=SETTLE)
    apps.delete_namespaced_deployment("web", ns, propagation_policy="Foreground")

    def collected() -> bool:
        return not (
            apps.list_namespaced_deployment(ns).items
            or apps.list_namespaced_replica_set(ns).items
            or core.list_namespaced_pod(ns).items
        )

    wait_for(collected, timeout=SETTLE)


# --------------------------------------------------------------------- admission: real only


def test_quota_and_limit_range_as_admission_applies_them(real_server: Server) -> None:
    """DeployTag's default quota and LimitRange, through the real admission chain: a container that
    sets no resources gets the defaults (LimitRanger) and is counted; past the quota, the API server
    refuses the pod (ResourceQuota). fakekube stores both and enforces neither."""
    ns, core = real_server.ns, real_server.core
    cluster = KubernetesCluster(kubeconfig=real_server.kubeconfig, context=real_server.context)
    defaults = QuotaConfig()
    hard = {**defaults.hard, "pods": "2"}
    cluster.apply_resource_quota(namespace=ns, name="deploytag-default", hard=hard, labels={})
    cluster.apply_limit_range(
        namespace=ns,
        name="deploytag-default",
        default_limits=defaults.default_limits,
        default_requests=defaults.default_requests,
        labels={},
    )

    def pod(name: str, **resources: Any) -> dict[str, Any]:
        container: dict[str, Any] = {"name": "main", "image": "registry.invalid/app:1"}
        if resources:
            container["resources"] = resources
        return {"metadata": {"name": name}, "spec": {"containers": [container]}}

    # The quota controller must first record usage; until then admission refuses pods it covers.
    def counted() -> bool:
        status = core.read_namespaced_resource_quota("deploytag-default", ns).status
        return bool(status and status.hard and status.used is not None)

    wait_for(counted, timeout=SETTLE)
    first = core.create_namespaced_pod(ns, pod("first"))
    resources = first.spec.containers[0].resources
    assert resources.requests == defaults.default_requests
    assert resources.limits == defaults.default_limits

    huge = {"cpu": "100"}
    too_big = _raises(403, lambda: core.create_namespaced_pod(ns, pod("big", requests=huge, limits=huge)))
    assert "exceeded quota: deploytag-default" in too_big["message"]
    assert "requests.cpu" in too_big["message"]

    core.create_namespaced_pod(ns, pod("second"))
    third = _raises(403, lambda: core.create_namespaced_pod(ns, pod("third")))
    assert "exceeded quota" in third["message"]
    assert "pods" in third["message"]
    # A Deployment's pods past the quota: its ReplicaSet says so in a FailedCreate event.
    real_server.apps.create_namespaced_deployment(ns, _deployment("more", replicas=1))

    def failed_create() -> bool:
        events = core.list_namespaced_event(ns, field_selector="reason=FailedCreate").items
        return any("exceeded quota" in (e.message or "") for e in events)

    wait_for(failed_create, timeout=SETTLE)

    # A request above the default limit, with no limit of its own: the LimitRange's default limit
    # would sit below the request, which validation refuses before the quota is even asked.
    invalid = _raises(422, lambda: core.create_namespaced_pod(ns, pod("hungry", requests={"memory": "1Gi"})))
    assert "must be less than or equal to memory limit" in invalid["message"]
