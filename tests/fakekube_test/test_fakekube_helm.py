"""The real helm binaries (Helm 4 and Helm 3) against the real cluster, and against fakekube alike.

Each test runs twice per helm: on ``real_node`` (a real API server, controllers, scheduler and a
kubelet that runs the chart's pods from the node's registry, tests/realimages.py) and on
tests/fakekube, the README's offline sandbox, so the sandbox shows helm what the real server
does. Objects are read back through the API (``Objects``), never through helm.

Where the two differ by nature, the test says so: fakekube decides readiness by image name at
once, a real kubelet runs the readiness probe; no cloud controller runs beside the real cluster,
so a test thread writes the LoadBalancer address as one would; the StatefulSet's volume claim is
bound to a hostPath PersistentVolume made for it, as no storage provisioner runs there either.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from fakekube import FakeKube
from realimages import NodeImages
from realkube import RealKube

pytestmark = pytest.mark.helm

CHART = Path(__file__).parent / "charts" / "webapp"
RELEASE = "web"
SETTLE = 90.0  # the longest a real rollout below takes on a loaded 2-core machine

API_PREFIX = {
    **dict.fromkeys(("deployments", "replicasets", "statefulsets"), "/apis/apps/v1"),
    **dict.fromkeys(
        ("pods", "services", "configmaps", "secrets", "serviceaccounts", "persistentvolumeclaims", "events"),
        "/api/v1",
    ),
}


class Objects:
    """Read objects back: fakekube's store, or the real API server over HTTP."""

    def __init__(self, fake: FakeKube | None, api: client.ApiClient | None) -> None:
        self.fake, self.api = fake, api

    def _get_json(self, path: str, query: list[tuple[str, str]]) -> dict[str, Any] | None:
        assert self.api is not None
        try:
            answer = self.api.call_api(
                path,
                "GET",
                query_params=query,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _return_http_data_only=True,
            )
        except client.ApiException as e:
            if e.status == 404:
                return None
            raise
        found: dict[str, Any] = json.loads(answer.data)
        return found

    def get(self, resource: str, ns: str, name: str) -> dict[str, Any] | None:
        if self.fake is not None:
            return self.fake.store.get(resource, ns, name)
        return self._get_json(f"{API_PREFIX[resource]}/namespaces/{ns}/{resource}/{name}", [])

    def must(self, resource: str, ns: str, name: str) -> dict[str, Any]:
        found = self.get(resource, ns, name)
        assert found is not None, f"{resource}/{name} not found"
        return found

    def list(self, resource: str, ns: str, label_selector: str = "") -> list[dict[str, Any]]:
        if self.fake is not None:
            return self.fake.store.list(resource, ns, label_selector=label_selector or None)
        query = [("labelSelector", label_selector)] if label_selector else []
        found = self._get_json(f"{API_PREFIX[resource]}/namespaces/{ns}/{resource}", query)
        assert found is not None
        items: list[dict[str, Any]] = found["items"]
        return items


@dataclass
class Target:
    """Where helm installs: the kubeconfig, a fresh namespace, images that exist there."""

    id: str
    kubeconfig: Path
    ns: str
    objects: Objects
    image: str  # the web image, tag 1.27
    next_image: str  # tag 1.28
    crashloop: str
    missing: str
    extra_set: tuple[str, ...] = ()  # --set flags a real cluster needs (images it can pull)
    fake: FakeKube | None = None
    api: client.ApiClient | None = None

    def wait_until(self, predicate: Callable[[], Any], timeout: float = SETTLE) -> None:
        """fakekube's controllers act at once; a real cluster's take their time."""
        deadline = time.monotonic() + (5.0 if self.fake else timeout)
        while not predicate():
            assert time.monotonic() < deadline, "condition not met in time"
            time.sleep(0.05 if self.fake else 0.3)


def _fake_target(fake: FakeKube) -> Target:
    return Target(
        id="fakekube",
        kubeconfig=fake.kubeconfig,
        ns="feature-login",
        objects=Objects(fake, None),
        image="nginx:1.27",
        next_image="nginx:1.28",
        crashloop="example/web:crashloop",  # fakekube fails containers by image name
        missing="registry.example/doesnotexist:1",
        fake=fake,
    )


def _hostpath_volume(core: client.CoreV1Api, ns: str) -> str:
    """A PersistentVolume bound in advance to the cache's claim: no provisioner runs here."""
    name = f"dt-helm-{ns}"
    core.create_persistent_volume(
        {
            "metadata": {"name": name},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": "",
                "hostPath": {"path": f"/tmp/{name}", "type": "DirectoryOrCreate"},
                "claimRef": {"namespace": ns, "name": f"data-{RELEASE}-cache-0"},
            },
        }
    )
    return name


@pytest.fixture(params=["fakekube", pytest.param("real", marks=pytest.mark.cluster)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "fakekube":
        with FakeKube(kubeconfig=tmp_path / "kubeconfig") as fake:
            yield _fake_target(fake)
        return
    kube: RealKube = request.getfixturevalue("real_node")
    images: NodeImages = request.getfixturevalue("real_images")
    api = config.new_client_from_config(
        config_file=str(kube.kubeconfig), context=kube.context, persist_config=False
    )
    ns = f"dt-helm-{secrets.token_hex(4)}"
    core = client.CoreV1Api(api)
    volume = _hostpath_volume(core, ns)
    try:
        yield Target(
            id="real",
            kubeconfig=kube.kubeconfig,
            ns=ns,
            objects=Objects(None, api),
            image=f"{images.web}:1.27",
            next_image=f"{images.web}:1.28",
            crashloop=images.crashloop,
            missing=images.missing,
            # pause's entrypoint ignores the redis arguments the cache chart passes
            extra_set=("--set", f"image={images.web}:1.27", "--set", f"cache.image={images.pause}"),
            api=api,
        )
    finally:
        try:
            core.delete_namespace(ns)
        except client.ApiException as e:
            if e.status != 404:
                raise
        core.delete_persistent_volume(volume)
        api.close()


class Helm:
    def __init__(self, binary: Path, target: Target, home: Path) -> None:
        self.binary = binary
        self.target = target
        self.env = {
            **os.environ,
            "KUBECONFIG": str(target.kubeconfig),
            "HELM_CACHE_HOME": str(home / "cache"),
            "HELM_CONFIG_HOME": str(home / "config"),
            "HELM_DATA_HOME": str(home / "data"),
        }

    @property
    def major(self) -> int:
        version = subprocess.run(
            [self.binary, "version", "--template", "{{.Version}}"], capture_output=True, text=True, check=True
        ).stdout
        return int(version.lstrip("v").split(".")[0])

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.binary), *args], capture_output=True, text=True, env=self.env, timeout=120
        )
        if check and result.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)

    def upgrade(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        ns = self.target.ns
        base = ["upgrade", "--install", RELEASE, str(CHART), "-n", ns, *self.target.extra_set]
        return self.run(*base, *args, check=check)

    def atomic_flag(self) -> str:
        return "--rollback-on-failure" if self.major >= 4 else "--atomic"

    def releases_everywhere(self) -> list[str]:
        """``helm list -A``, limited to our namespace: a real cluster is shared."""
        return [r["name"] for r in self.json("list", "-A") if r["namespace"] == self.target.ns]


@pytest.fixture
def helm(helm_bin: Path, target: Target, tmp_path: Path) -> Helm:
    return Helm(helm_bin, target, tmp_path / "helm-home")


def _image(target: Target) -> str:
    deployment = target.objects.get("deployments", target.ns, f"{RELEASE}-web")
    assert deployment is not None
    image: str = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


def _ready(target: Target) -> bool:
    deployment = target.objects.get("deployments", target.ns, f"{RELEASE}-web")
    status = (deployment or {}).get("status") or {}
    return deployment is not None and status.get("readyReplicas") == deployment["spec"]["replicas"]


def _is_cluster_ip(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_private
    except ValueError:
        return False


def test_install_upgrade_history_rollback_uninstall(helm: Helm, target: Target) -> None:
    ns, objects = target.ns, target.objects
    helm.upgrade("--create-namespace")
    # every kind of the chart and its subchart is there, and the workloads run
    assert objects.must("configmaps", ns, "web-web")["data"] == {"greeting": "hello"}
    assert _is_cluster_ip(objects.must("services", ns, "web-web")["spec"]["clusterIP"])
    assert objects.must("services", ns, "web-cache")["spec"]["clusterIP"] == "None"
    assert objects.must("secrets", ns, "web-cache")["data"] == {"password": "czNjcmV0"}
    assert objects.get("serviceaccounts", ns, "web-cache") is not None
    target.wait_until(lambda: _ready(target))
    assert len(objects.list("pods", ns, label_selector="app.kubernetes.io/name=webapp")) == 2

    def cache_ready() -> bool:
        cache = objects.get("statefulsets", ns, "web-cache") or {}
        return bool((cache.get("status") or {}).get("readyReplicas") == 1)

    target.wait_until(cache_ready)
    claim = objects.get("persistentvolumeclaims", ns, "data-web-cache-0")
    assert claim is not None
    assert claim["status"]["phase"] == "Bound"
    (release,) = objects.list("secrets", ns, label_selector="owner=helm")
    assert release["type"] == "helm.sh/release.v1"
    assert release["metadata"]["labels"]["status"] == "deployed"

    # revision 2 changes the ConfigMap, so the pod template's checksum, so the ReplicaSet
    helm.upgrade("--set", "greeting=hi", "--wait", "--timeout", "60s")
    assert objects.must("configmaps", ns, "web-web")["data"] == {"greeting": "hi"}

    def replica_counts() -> list[int]:
        sets = objects.list("replicasets", ns, label_selector="app.kubernetes.io/name=webapp")
        return sorted(rs["spec"]["replicas"] for rs in sets)

    target.wait_until(lambda: replica_counts() == [0, 2])
    target.wait_until(lambda: _ready(target))
    history = helm.json("history", RELEASE, "-n", ns)
    assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"), (2, "deployed")]
    status = helm.json("status", RELEASE, "-n", ns)
    assert (status["version"], status["info"]["status"]) == (2, "deployed")
    listed = helm.json("list", "-n", ns)
    assert [(r["name"], r["revision"], r["status"]) for r in listed] == [(RELEASE, "2", "deployed")]
    assert helm.releases_everywhere() == [RELEASE]

    helm.run("rollback", RELEASE, "1", "-n", ns, "--wait", "--timeout", "60s")
    assert objects.must("configmaps", ns, "web-web")["data"] == {"greeting": "hello"}
    history = helm.json("history", RELEASE, "-n", ns)
    assert [(h["revision"], h["status"]) for h in history][-1] == (3, "deployed")
    assert history[-1]["description"] == "Rollback to 1"
    target.wait_until(lambda: _ready(target))

    helm.run("uninstall", RELEASE, "-n", ns, "--wait", "--timeout", "60s")
    leftovers = (
        "deployments",
        "replicasets",
        "pods",
        "statefulsets",
        "services",
        "configmaps",
        "serviceaccounts",
    )
    # controllers add these to every namespace (openshift-service-ca.crt: this build's controller-manager)
    expected = {"default", "kube-root-ca.crt", "openshift-service-ca.crt"}

    def all_gone() -> bool:
        return all(
            not {o["metadata"]["name"] for o in objects.list(kind, ns)} - expected for kind in leftovers
        )

    target.wait_until(all_gone)
    assert objects.list("secrets", ns) == []
    assert helm.releases_everywhere() == []


def test_wait_fails_on_crashloop_and_atomic_rolls_back(helm: Helm, target: Target) -> None:
    ns = target.ns
    helm.upgrade("--create-namespace", "--wait", "--timeout", "60s")
    failed = helm.upgrade(
        "--set", f"image={target.crashloop}", "--wait", "--timeout", "4s", helm.atomic_flag(), check=False
    )
    assert failed.returncode != 0
    assert "rolled back" in failed.stderr
    history = helm.json("history", RELEASE, "-n", ns)
    assert [(h["revision"], h["status"]) for h in history] == [
        (1, "superseded"),
        (2, "failed"),
        (3, "deployed"),
    ]
    assert _image(target) == target.image
    target.wait_until(lambda: _ready(target))

    def crashing() -> list[dict[str, Any]]:
        pods = target.objects.list("pods", ns)
        return [p for p in pods if p["spec"]["containers"][0]["image"] == target.crashloop]

    target.wait_until(lambda: crashing() == [])  # the failed ReplicaSet was scaled back down


def test_wait_fails_without_rollback_and_leaves_diagnostics(helm: Helm, target: Target) -> None:
    ns = target.ns
    failed = helm.upgrade(
        "--create-namespace", "--set", f"image={target.missing}", "--wait", "--timeout", "4s", check=False
    )
    assert failed.returncode != 0
    assert helm.json("status", RELEASE, "-n", ns)["info"]["status"] == "failed"

    def pull_failed() -> bool:
        pods = target.objects.list("pods", ns, label_selector="app.kubernetes.io/name=webapp")
        waiting = [
            ((p["status"].get("containerStatuses") or [{}])[0].get("state") or {}).get("waiting") or {}
            for p in pods
        ]
        return bool(pods) and all(w.get("reason") in ("ImagePullBackOff", "ErrImagePull") for w in waiting)

    target.wait_until(pull_failed)

    def warned() -> bool:
        events = target.objects.list("events", ns)
        return any(e["type"] == "Warning" and e["reason"] == "Failed" for e in events)

    target.wait_until(warned)


def _play_cloud_controller(target: Target, stop: threading.Event) -> None:
    """Write the Service's load balancer address, as a cloud controller would."""
    assert target.api is not None
    core = client.CoreV1Api(target.api)
    while not stop.is_set():
        try:
            core.patch_namespaced_service_status(
                f"{RELEASE}-web",
                target.ns,
                {"status": {"loadBalancer": {"ingress": [{"hostname": f"web-web.{target.ns}.lb.test"}]}}},
            )
            return
        except client.ApiException as e:
            if e.status != 404:
                raise
        stop.wait(0.2)


def test_wait_for_load_balancer_and_legacy_wait(helm: Helm, target: Target) -> None:
    extra = ["--wait=legacy"] if helm.major >= 4 else ["--wait"]
    stop = threading.Event()
    controller = None
    if target.fake is None:
        controller = threading.Thread(target=_play_cloud_controller, args=(target, stop))
        controller.start()
    try:
        helm.upgrade("--create-namespace", "--set", "service.type=LoadBalancer", *extra, "--timeout", "60s")
    finally:
        stop.set()
        if controller is not None:
            controller.join()
    service = target.objects.get("services", target.ns, "web-web")
    assert service is not None
    lb = "lb.fakekube.test" if target.fake else "lb.test"
    assert service["status"]["loadBalancer"]["ingress"] == [{"hostname": f"web-web.{target.ns}.{lb}"}]


def test_upgrade_keeps_defaults_and_unmanaged_fields(helm: Helm, target: Target) -> None:
    """Helm 3 sends a three-way strategic merge patch, Helm 4 a server-side apply: both must leave the
    server's defaults and other managers' fields alone and change only what the chart changed."""
    ns = target.ns
    helm.upgrade("--create-namespace")
    first = target.objects.get("deployments", ns, "web-web")
    assert first is not None
    note = {"metadata": {"annotations": {"other-tool/note": "keep me"}}}
    api = target.api or config.new_client_from_config(
        config_file=str(target.kubeconfig), persist_config=False
    )
    noted = client.AppsV1Api(api).patch_namespaced_deployment("web-web", ns, note, field_manager="other-tool")
    # A real server counts a change to a Deployment's annotations as a new generation (they are
    # copied to its ReplicaSets); fakekube does not (a known gap, see its docstring).
    bump = 1 if target.fake is None else 0
    assert noted.metadata.generation == first["metadata"]["generation"] + bump
    patches_before = len(target.fake.requests("PATCH")) if target.fake else 0
    helm.upgrade("--set", f"image={target.next_image}", "--set", "replicas=3")
    second = target.objects.get("deployments", ns, "web-web")
    assert second is not None
    container = second["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == target.next_image
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert second["spec"]["replicas"] == 3
    assert second["metadata"]["annotations"]["other-tool/note"] == "keep me"
    assert second["metadata"]["generation"] == noted.metadata.generation + 1
    if target.fake is not None:  # what helm sent: fakekube keeps a log of requests
        by_helm = target.fake.requests("PATCH")[patches_before:]
        writes = {r.content_type.split(";")[0] for r in by_helm if f"/namespaces/{ns}/deployments/" in r.path}
        expected = (
            "application/apply-patch+yaml" if helm.major >= 4 else "application/strategic-merge-patch+json"
        )
        assert writes == {expected}
    else:  # what the server recorded: Helm 4 applies, Helm 3 updates
        operations = {(m["manager"], m["operation"]) for m in second["metadata"]["managedFields"]}
        assert ("helm", "Apply" if helm.major >= 4 else "Update") in operations
        assert ("other-tool", "Update") in operations


def test_wait_follows_pods_becoming_ready(helm_bin: Path, tmp_path: Path) -> None:
    """Pods turn Ready a second after they start: Helm 4 learns it from watch events, Helm 3 by polling.

    fakekube only: the point is the sandbox's watch-list support and its ``ready_delay``; a real
    kubelet's readiness cannot be delayed from outside, and the real server keeps no request log.
    """
    with FakeKube(kubeconfig=tmp_path / "kubeconfig") as fake:
        target = _fake_target(fake)
        helm = Helm(helm_bin, target, tmp_path / "helm-home")
        fake.ready_delay = 1.0
        started = time.monotonic()
        helm.upgrade("--create-namespace", "--wait", "--timeout", "20s")
        assert time.monotonic() - started >= 1.0
        assert _ready(target)
        if helm.major >= 4:
            watches = [r for r in fake.requests("GET", f"/namespaces/{target.ns}/deployments") if r.is_watch]
            assert watches
            assert watches[0].query.get("sendInitialEvents") == "true"
