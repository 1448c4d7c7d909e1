"""fakekube through the official kubernetes Python client: the REST semantics and the controllers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config, watch

from fakekube import FailureRule, FakeKube

NS = "team-a"


@pytest.fixture
def api(fakekube: FakeKube) -> Iterator[client.ApiClient]:
    api_client = config.new_client_from_config(config_file=str(fakekube.kubeconfig))
    client.CoreV1Api(api_client).create_namespace({"metadata": {"name": NS}})
    yield api_client
    api_client.close()


def _status(exc: client.ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.body)
    return body


def _deployment(name: str, image: str, replicas: int = 2, **pod_spec: Any) -> dict[str, Any]:
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
                    "containers": [{"name": "main", "image": image, "ports": [{"containerPort": 8080}]}],
                    **pod_spec,
                },
            },
        },
    }


# ---------------------------------------------------------------------------------------------
# REST semantics


def test_configmap_crud_and_errors(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    created = core.create_namespaced_config_map(NS, {"metadata": {"name": "settings"}, "data": {"a": "1"}})
    assert created.metadata.uid
    assert created.metadata.creation_timestamp is not None
    assert int(created.metadata.resource_version) > 0

    with pytest.raises(client.ApiException) as exists:
        core.create_namespaced_config_map(NS, {"metadata": {"name": "settings"}})
    assert exists.value.status == 409
    assert _status(exists.value)["reason"] == "AlreadyExists"
    assert _status(exists.value)["message"] == 'configmaps "settings" already exists'

    created.data["a"] = "2"
    replaced = core.replace_namespaced_config_map("settings", NS, created)
    assert replaced.data == {"a": "2"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)

    with pytest.raises(client.ApiException) as stale:  # same (now stale) resourceVersion again
        core.replace_namespaced_config_map("settings", NS, created)
    assert stale.value.status == 409
    assert _status(stale.value)["reason"] == "Conflict"
    assert "the object has been modified" in _status(stale.value)["message"]

    core.delete_namespaced_config_map("settings", NS)
    with pytest.raises(client.ApiException) as gone:
        core.read_namespaced_config_map("settings", NS)
    assert gone.value.status == 404
    status = _status(gone.value)
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "NotFound", 404)
    assert status["details"] == {"name": "settings", "kind": "configmaps"}


def test_creating_in_a_missing_namespace_is_not_found(api: client.ApiClient) -> None:
    with pytest.raises(client.ApiException) as missing:
        client.CoreV1Api(api).create_namespaced_secret("nowhere", {"metadata": {"name": "s"}})
    assert missing.value.status == 404
    assert _status(missing.value)["message"] == 'namespaces "nowhere" not found'


def test_invalid_names_and_labels_are_rejected(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    with pytest.raises(client.ApiException) as bad_ns:
        core.create_namespace({"metadata": {"name": "Feature/Login"}})
    assert bad_ns.value.status == 422
    assert "RFC 1123 label" in _status(bad_ns.value)["message"]
    with pytest.raises(client.ApiException) as bad_label:
        core.create_namespaced_config_map(
            NS, {"metadata": {"name": "x", "labels": {"branch": "feature/login"}}}
        )
    assert bad_label.value.status == 422
    assert _status(bad_label.value)["reason"] == "Invalid"


def test_label_selectors(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    for name, labels in {
        "a": {"env": "prod", "tier": "web"},
        "b": {"env": "dev", "tier": "web"},
        "c": {"env": "qa"},
        "d": {},
    }.items():
        core.create_namespaced_config_map(NS, {"metadata": {"name": name, "labels": labels}})

    def names(selector: str) -> list[str]:
        items = core.list_namespaced_config_map(NS, label_selector=selector).items
        return [i.metadata.name for i in items if i.metadata.name != "kube-root-ca.crt"]

    assert names("env=prod") == ["a"]
    assert names("env==dev") == ["b"]
    assert names("env!=prod") == ["b", "c", "d"]
    assert names("env in (dev, qa)") == ["b", "c"]
    assert names("env notin (dev,qa)") == ["a", "d"]
    assert names("tier") == ["a", "b"]
    assert names("!tier") == ["c", "d"]
    assert names("tier=web,env!=dev") == ["a"]
    with pytest.raises(client.ApiException) as bad:
        core.list_namespaced_config_map(NS, label_selector="env in prod")
    assert bad.value.status == 400


def test_field_selector_pagination_and_all_namespaces(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    for i in range(5):
        core.create_namespaced_secret(NS, {"metadata": {"name": f"s{i}"}, "stringData": {"k": "v"}})
    assert [
        s.metadata.name for s in core.list_namespaced_secret(NS, field_selector="metadata.name=s3").items
    ] == ["s3"]
    first = core.list_namespaced_secret(NS, limit=2)
    assert [s.metadata.name for s in first.items] == ["s0", "s1"]
    assert first.metadata.remaining_item_count == 3
    second = core.list_namespaced_secret(NS, limit=2, _continue=first.metadata._continue)
    assert [s.metadata.name for s in second.items] == ["s2", "s3"]
    everywhere = core.list_secret_for_all_namespaces(field_selector=f"metadata.namespace={NS},type=Opaque")
    assert len(everywhere.items) == 5
    with pytest.raises(client.ApiException) as unsupported:  # as on a real server: per-kind field labels
        core.list_namespaced_secret(NS, field_selector="data.k=dg==")
    assert unsupported.value.status == 400
    assert _status(unsupported.value)["message"] == "field label not supported: data.k"
    # stringData is written into data, base64-encoded, as a real server does
    assert core.read_namespaced_secret("s0", NS).data == {"k": "dg=="}


def test_patch_flavours(api: client.ApiClient) -> None:
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(NS, _deployment("web", "nginx:1.27"))
    generation = apps.read_namespaced_deployment("web", NS).metadata.generation
    assert generation == 1

    # strategic merge: containers merge by name, ports survive
    patched = apps.patch_namespaced_deployment(
        "web", NS, {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "nginx:1.28"}]}}}}
    )
    container = patched.spec.template.spec.containers[0]
    assert (container.image, container.ports[0].container_port) == ("nginx:1.28", 8080)
    assert patched.metadata.generation == 2

    # merge patch on metadata only: generation stays
    labelled = apps.patch_namespaced_deployment(
        "web", NS, {"metadata": {"labels": {"team": "a"}}}, _content_type="application/merge-patch+json"
    )
    assert labelled.metadata.labels == {"app": "web", "team": "a"}
    assert labelled.metadata.generation == 2

    # JSON patch
    scaled = apps.patch_namespaced_deployment(
        "web",
        NS,
        [{"op": "replace", "path": "/spec/replicas", "value": 3}],
        _content_type="application/json-patch+json",
    )
    assert scaled.spec.replicas == 3
    assert (
        scaled.status.ready_replicas == 3
        or apps.read_namespaced_deployment("web", NS).status.ready_replicas == 3
    )

    # server-side apply creates, then updates, and drops what the manager stopped applying
    core = client.CoreV1Api(api)
    applied = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "ssa"},
        "data": {"a": "1", "b": "2"},
    }
    core.patch_namespaced_config_map(
        "ssa", NS, applied, field_manager="tests", _content_type="application/apply-patch+yaml"
    )
    applied["data"] = {"a": "10"}
    result = core.patch_namespaced_config_map(
        "ssa", NS, applied, field_manager="tests", _content_type="application/apply-patch+yaml"
    )
    assert result.data == {"a": "10"}


def test_delete_collects_dependents(api: client.ApiClient, fakekube: FakeKube) -> None:
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(NS, _deployment("web", "nginx:1.27"))
    assert len(fakekube.store.list("pods", NS, label_selector="app=web")) == 2
    apps.delete_namespaced_deployment("web", NS, propagation_policy="Foreground")
    assert fakekube.store.list("replicasets", NS) == []
    assert fakekube.store.list("pods", NS) == []


def test_lease_optimistic_concurrency(api: client.ApiClient) -> None:
    leases = client.CoordinationV1Api(api)
    lease = leases.create_namespaced_lease(
        NS, {"metadata": {"name": "lock"}, "spec": {"holderIdentity": "a", "leaseDurationSeconds": 30}}
    )
    results: list[int] = []

    def take(holder: str) -> None:
        body = client.V1Lease(metadata=lease.metadata, spec=client.V1LeaseSpec(holder_identity=holder))
        try:
            leases.replace_namespaced_lease("lock", NS, body)
            results.append(200)
        except client.ApiException as exc:
            results.append(exc.status)

    threads = [threading.Thread(target=take, args=(f"h{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409, 409, 409]


def test_watch_streams_changes(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    start = core.list_namespaced_config_map(NS).metadata.resource_version

    def writer() -> None:
        time.sleep(0.1)
        core.create_namespaced_config_map(NS, {"metadata": {"name": "w", "labels": {"watched": "yes"}}})
        core.create_namespaced_config_map(NS, {"metadata": {"name": "other"}})
        core.patch_namespaced_config_map("w", NS, {"data": {"x": "1"}})
        core.patch_namespaced_config_map("w", NS, {"metadata": {"labels": {"watched": "no"}}})

    thread = threading.Thread(target=writer)
    thread.start()
    seen = []
    stream = watch.Watch().stream(
        core.list_namespaced_config_map,
        NS,
        label_selector="watched=yes",
        resource_version=start,
        timeout_seconds=2,
    )
    for event in stream:
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            break
    thread.join()
    # leaving the selector reads as DELETED, as on a real server
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


# ---------------------------------------------------------------------------------------------
# Controllers


def test_deployment_gets_replicaset_pods_and_ready_status(api: client.ApiClient) -> None:
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    apps.create_namespaced_deployment(NS, _deployment("web", "nginx:1.27", replicas=3))
    status = apps.read_namespaced_deployment("web", NS).status
    assert (status.observed_generation, status.replicas, status.ready_replicas, status.updated_replicas) == (
        1,
        3,
        3,
        3,
    )
    assert status.available_replicas == 3
    conditions = {c.type: (c.status, c.reason) for c in status.conditions}
    assert conditions == {
        "Available": ("True", "MinimumReplicasAvailable"),
        "Progressing": ("True", "NewReplicaSetAvailable"),
    }
    (replicaset,) = apps.list_namespaced_replica_set(NS).items
    assert replicaset.metadata.owner_references[0].kind == "Deployment"
    pods = core.list_namespaced_pod(NS, label_selector="app=web").items
    assert len(pods) == 3
    assert {p.metadata.owner_references[0].name for p in pods} == {replicaset.metadata.name}
    assert all(p.status.phase == "Running" and p.status.container_statuses[0].ready for p in pods)
    logs = core.read_namespaced_pod_log(pods[0].metadata.name, NS, _preload_content=False).data.decode()
    assert "started" in logs


def test_crashloop_image(api: client.ApiClient) -> None:
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    apps.create_namespaced_deployment(NS, _deployment("api", "example/api:crashloop", replicas=1))
    status = apps.read_namespaced_deployment("api", NS).status
    assert not status.ready_replicas
    assert {c.type: c.status for c in status.conditions}["Available"] == "False"
    (pod,) = core.list_namespaced_pod(NS, label_selector="app=api").items
    (container,) = pod.status.container_statuses
    assert pod.status.phase == "Running"
    assert not container.ready
    assert container.state.waiting.reason == "CrashLoopBackOff"
    assert container.restart_count > 0
    assert container.last_state.terminated.exit_code == 1
    # (kubernetes-client 36 returns pod logs as a bytes repr string; read the raw body)
    raw = core.read_namespaced_pod_log(pod.metadata.name, NS, tail_lines=1, _preload_content=False)
    assert raw.data.decode() == "Error: cannot connect to database at db:5432: connection refused\n"
    reasons = {
        e.reason
        for e in core.list_namespaced_event(
            NS, field_selector=f"involvedObject.name={pod.metadata.name}"
        ).items
    }
    assert "BackOff" in reasons


def test_oom_killed_container_shows_it_in_its_last_state(api: client.ApiClient) -> None:
    """As the real kubelet reports it: waiting CrashLoopBackOff, lastState OOMKilled 137."""
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    apps.create_namespaced_deployment(NS, _deployment("api", "example/api:oomkill", replicas=1))
    (pod,) = core.list_namespaced_pod(NS, label_selector="app=api").items
    (container,) = pod.status.container_statuses
    assert container.state.waiting.reason == "CrashLoopBackOff"
    assert container.restart_count > 0
    assert (container.last_state.terminated.reason, container.last_state.terminated.exit_code) == (
        "OOMKilled",
        137,
    )


def test_image_pull_failure_and_events(api: client.ApiClient) -> None:
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    apps.create_namespaced_deployment(NS, _deployment("api", "registry.example/doesnotexist:1", replicas=1))
    (pod,) = core.list_namespaced_pod(NS, label_selector="app=api").items
    assert pod.status.phase == "Pending"
    waiting = pod.status.container_statuses[0].state.waiting
    assert waiting.reason == "ImagePullBackOff"
    assert "registry.example/doesnotexist:1" in waiting.message
    failed = [
        e
        for e in core.list_namespaced_event(NS).items
        if e.reason == "Failed" and e.involved_object.name == pod.metadata.name
    ]
    assert failed
    assert all(e.type == "Warning" for e in failed)
    assert any("Failed to pull image" in e.message for e in failed)
    with pytest.raises(client.ApiException) as no_logs:
        core.read_namespaced_pod_log(pod.metadata.name, NS)
    assert no_logs.value.status == 400
    assert "waiting to start" in _status(no_logs.value)["message"]
    # the same events through events.k8s.io/v1 (read raw: kubelet events have no eventTime, which
    # the Python client's EventsV1Event refuses, on a real cluster too)
    raw = client.EventsV1Api(api).list_namespaced_event(NS, _preload_content=False)
    new_events = json.loads(raw.data)["items"]
    assert any(
        e["reason"] == "Failed" and e["regarding"]["name"] == pod.metadata.name and e["note"]
        for e in new_events
    )


def test_unschedulable_pod(api: client.ApiClient) -> None:
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    deployment = _deployment("big", "nginx:1.27", replicas=1)
    deployment["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "100"}}
    apps.create_namespaced_deployment(NS, deployment)
    (pod,) = core.list_namespaced_pod(NS, label_selector="app=big").items
    assert pod.status.phase == "Pending"
    (scheduled,) = [c for c in pod.status.conditions if c.type == "PodScheduled"]
    assert (scheduled.status, scheduled.reason) == ("False", "Unschedulable")
    assert scheduled.message == "0/1 nodes are available: 1 Insufficient cpu."
    (event,) = [e for e in core.list_namespaced_event(NS).items if e.reason == "FailedScheduling"]
    assert event.type == "Warning"
    assert event.message == "0/1 nodes are available: 1 Insufficient cpu."


def test_custom_failure_rule_and_ready_delay(api: client.ApiClient, fakekube: FakeKube) -> None:
    fakekube.failure_rules.append(FailureRule("acme/flaky", "crashloop", log="boom\n", restart_count=7))
    fakekube.ready_delay = 0.5
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(NS, _deployment("flaky", "acme/flaky:2", replicas=1))
    apps.create_namespaced_deployment(NS, _deployment("slow", "nginx:1.27", replicas=1))
    assert not apps.read_namespaced_deployment("slow", NS).status.ready_replicas
    fakekube.wait_until(
        lambda: apps.read_namespaced_deployment("slow", NS).status.ready_replicas == 1, timeout=3
    )
    (pod,) = fakekube.store.list("pods", NS, label_selector="app=flaky")
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 7


def test_statefulset_pvcs_and_services(api: client.ApiClient) -> None:
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    apps.create_namespaced_stateful_set(
        NS,
        {
            "metadata": {"name": "redis"},
            "spec": {
                "serviceName": "redis",
                "replicas": 2,
                "selector": {"matchLabels": {"app": "redis"}},
                "template": {
                    "metadata": {"labels": {"app": "redis"}},
                    "spec": {"containers": [{"name": "redis", "image": "redis:7.2"}]},
                },
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                ],
            },
        },
    )
    status = apps.read_namespaced_stateful_set("redis", NS).status
    assert (status.ready_replicas, status.current_replicas, status.updated_replicas) == (2, 2, 2)
    assert status.current_revision == status.update_revision
    assert sorted(p.metadata.name for p in core.list_namespaced_pod(NS).items) == ["redis-0", "redis-1"]
    pvcs = core.list_namespaced_persistent_volume_claim(NS).items
    assert sorted((p.metadata.name, p.status.phase) for p in pvcs) == [
        ("data-redis-0", "Bound"),
        ("data-redis-1", "Bound"),
    ]

    core.create_namespaced_service(
        NS,
        {
            "metadata": {"name": "redis"},
            "spec": {"type": "LoadBalancer", "selector": {"app": "redis"}, "ports": [{"port": 6379}]},
        },
    )
    service = core.read_namespaced_service("redis", NS)
    assert service.spec.cluster_ip.startswith("10.96.")
    assert 30000 <= service.spec.ports[0].node_port <= 32767
    assert service.status.load_balancer.ingress[0].hostname == f"redis.{NS}.lb.fakekube.test"
    endpoints = core.read_namespaced_endpoints("redis", NS)
    assert len(endpoints.subsets[0].addresses) == 2


def test_namespace_deletion_lifecycle(api: client.ApiClient, fakekube: FakeKube) -> None:
    core = client.CoreV1Api(api)
    fakekube.namespace_deletion_delay = 1.0  # long enough for the checks below, even on a busy machine
    client.AppsV1Api(api).create_namespaced_deployment(NS, _deployment("web", "nginx:1.27"))
    deleted = core.delete_namespace(NS)
    assert deleted.status == {"phase": "Terminating"} or core.read_namespace(NS).status.phase == "Terminating"
    namespace = core.read_namespace(NS)
    assert namespace.status.phase == "Terminating"
    assert namespace.metadata.deletion_timestamp is not None

    with pytest.raises(client.ApiException) as forbidden:
        core.create_namespaced_config_map(NS, {"metadata": {"name": "late"}})
    assert forbidden.value.status == 403
    assert "because it is being terminated" in _status(forbidden.value)["message"]
    with pytest.raises(client.ApiException) as again:
        core.delete_namespace(NS)
    assert again.value.status == 409

    fakekube.wait_until(lambda: fakekube.store.get("namespaces", None, NS) is None, timeout=3)
    assert fakekube.store.namespaced_objects(NS) == []
    with pytest.raises(client.ApiException) as gone:
        core.read_namespace(NS)
    assert gone.value.status == 404
    with pytest.raises(client.ApiException) as protected:
        core.delete_namespace("default")
    assert protected.value.status == 403


def test_new_namespace_has_default_service_account(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    assert core.read_namespaced_service_account("default", NS).metadata.name == "default"
    assert "ca.crt" in core.read_namespaced_config_map("kube-root-ca.crt", NS).data


def test_wrong_token_is_unauthorized(fakekube: FakeKube) -> None:
    configuration = client.Configuration()
    configuration.host = fakekube.url
    configuration.api_key = {"authorization": "Bearer wrong"}
    with client.ApiClient(configuration) as api_client, pytest.raises(client.ApiException) as denied:
        client.CoreV1Api(api_client).list_namespace()
    assert denied.value.status == 401


def test_tls_mode(tmp_path: Any) -> None:
    with FakeKube(kubeconfig=tmp_path / "kubeconfig", tls=True) as kube:
        assert kube.url.startswith("https://")
        api_client = config.new_client_from_config(config_file=str(kube.kubeconfig))
        core = client.CoreV1Api(api_client)
        names = [n.metadata.name for n in core.list_namespace().items]
        assert "default" in names
        events = [e["type"] for e in watch.Watch().stream(core.list_namespace, timeout_seconds=1)]
        assert events == ["ADDED"] * len(names)
        api_client.close()
        assert all(r.status == 200 for r in kube.requests("GET", "/api/v1/namespaces"))
        # over TLS the token is sent, so it is checked
        configuration = client.Configuration()
        configuration.host = kube.url
        (tmp_path / "ca.crt").write_bytes(kube.ca_pem)
        configuration.ssl_ca_cert = str(tmp_path / "ca.crt")
        with client.ApiClient(configuration) as anonymous, pytest.raises(client.ApiException) as denied:
            client.CoreV1Api(anonymous).list_namespace()
        assert denied.value.status == 401


def test_request_log_records_what_clients_sent(api: client.ApiClient, fakekube: FakeKube) -> None:
    client.CoreV1Api(api).patch_namespace(NS, {"metadata": {"labels": {"x": "y"}}})
    (record,) = fakekube.requests("PATCH", f"/api/v1/namespaces/{NS}")
    assert record.content_type.startswith("application/strategic-merge-patch+json")
    assert record.body == {"metadata": {"labels": {"x": "y"}}}
    assert record.status == 200


def test_metadata_finalizer_holds_a_terminating_namespace(api: client.ApiClient, fakekube: FakeKube) -> None:
    core = client.CoreV1Api(api)
    fakekube.namespace_deletion_delay = 0.05
    core.patch_namespace(NS, {"metadata": {"finalizers": ["example.com/hold"]}})
    core.create_namespaced_config_map(NS, {"metadata": {"name": "content"}})
    core.delete_namespace(NS)
    fakekube.wait_until(lambda: fakekube.store.get("configmaps", NS, "content") is None, timeout=3)
    time.sleep(0.1)
    held = core.read_namespace(NS)
    assert held.status.phase == "Terminating"
    assert held.spec.finalizers == []
    conditions = {c.type: c.status for c in held.status.conditions}
    assert conditions["NamespaceContentRemaining"] == "False"
    core.patch_namespace(NS, {"metadata": {"finalizers": None}})
    assert fakekube.store.get("namespaces", None, NS) is None


def test_shell_script_containers_exit_with_their_code_and_output(api: client.ApiClient) -> None:
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    script = "echo 'starting step 0'; echo \"step 1 failed\"; exit 3"
    deployment = _deployment("job-like", "busybox:1.36", replicas=1)
    deployment["spec"]["template"]["spec"]["containers"][0]["command"] = ["sh", "-c", script]
    apps.create_namespaced_deployment(NS, deployment)
    server = _deployment("server", "busybox:1.36", replicas=1)
    server["spec"]["template"]["spec"]["containers"][0]["command"] = ["sh", "-c", "echo serving; sleep 3600"]
    apps.create_namespaced_deployment(NS, server)

    (pod,) = core.list_namespaced_pod(NS, label_selector="app=job-like").items
    (container,) = pod.status.container_statuses
    assert container.state.waiting.reason == "CrashLoopBackOff"
    assert (container.last_state.terminated.exit_code, container.last_state.terminated.reason) == (3, "Error")
    for previous in (False, True):
        logs = core.read_namespaced_pod_log(pod.metadata.name, NS, previous=previous, _preload_content=False)
        assert logs.data.decode() == "starting step 0\nstep 1 failed\n"

    (running,) = core.list_namespaced_pod(NS, label_selector="app=server").items
    assert running.status.container_statuses[0].ready
    assert (
        core.read_namespaced_pod_log(running.metadata.name, NS, _preload_content=False).data == b"serving\n"
    )
    with pytest.raises(client.ApiException) as no_previous:
        core.read_namespaced_pod_log(running.metadata.name, NS, previous=True)
    assert no_previous.value.status == 400


def test_progress_deadline_exceeded(api: client.ApiClient, fakekube: FakeKube) -> None:
    apps = client.AppsV1Api(api)
    deployment = _deployment("api", "example/api:crashloop", replicas=1)
    deployment["spec"]["progressDeadlineSeconds"] = 1
    apps.create_namespaced_deployment(NS, deployment)

    def progressing() -> tuple[str, str]:
        conditions = apps.read_namespaced_deployment("api", NS).status.conditions
        (condition,) = [c for c in conditions if c.type == "Progressing"]
        return condition.status, condition.reason

    assert progressing() == ("True", "ReplicaSetUpdated")
    fakekube.wait_until(lambda: progressing() == ("False", "ProgressDeadlineExceeded"), timeout=5)
