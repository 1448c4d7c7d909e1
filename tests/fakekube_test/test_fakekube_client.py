"""fakekube through the official kubernetes Python client: its imitation of the kubelet and controllers.

What the API server itself decides (conflicts, validation, selectors, patches, watches, namespace
finalization, garbage collection) is checked on the real server and on fakekube alike, in
tests/contract/test_api_server.py; what is left here is how the sandbox plays the parts a real
cluster's node and controllers would, by image name (``:crashloop``, failure rules) and at once.
"""

from __future__ import annotations

import json
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
