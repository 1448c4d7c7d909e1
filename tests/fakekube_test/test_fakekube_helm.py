"""The real helm binaries (Helm 4 and Helm 3, each that is installed) against fakekube."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from fakekube import FakeKube

pytestmark = pytest.mark.helm

CHART = Path(__file__).parent / "charts" / "webapp"
NS = "feature-login"
RELEASE = "web"


class Helm:
    def __init__(self, binary: Path, kube: FakeKube, home: Path) -> None:
        self.binary = binary
        self.kube = kube
        self.env = {
            **kube.env(),
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
            [str(self.binary), *args], capture_output=True, text=True, env=self.env, timeout=60
        )
        if check and result.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)

    def upgrade(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("upgrade", "--install", RELEASE, str(CHART), "-n", NS, *args, check=check)

    def atomic_flag(self) -> str:
        return "--rollback-on-failure" if self.major >= 4 else "--atomic"


@pytest.fixture
def helm(helm_bin: Path, fakekube: FakeKube, tmp_path: Path) -> Helm:
    return Helm(helm_bin, fakekube, tmp_path / "helm-home")


def _image(kube: FakeKube) -> str:
    deployment = kube.store.get("deployments", NS, f"{RELEASE}-web")
    assert deployment is not None
    image: str = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


def _ready(kube: FakeKube) -> bool:
    deployment = kube.store.get("deployments", NS, f"{RELEASE}-web")
    return (
        deployment is not None and deployment["status"].get("readyReplicas") == deployment["spec"]["replicas"]
    )


def test_install_upgrade_history_rollback_uninstall(helm: Helm, fakekube: FakeKube) -> None:
    helm.upgrade("--create-namespace")
    store = fakekube.store
    # every kind of the chart and its subchart is there, and the workloads run
    assert store.get("configmaps", NS, "web-web")["data"] == {"greeting": "hello"}
    assert store.get("services", NS, "web-web")["spec"]["clusterIP"].startswith("10.96.")
    assert store.get("services", NS, "web-cache")["spec"]["clusterIP"] == "None"
    assert store.get("secrets", NS, "web-cache")["data"] == {"password": "czNjcmV0"}
    assert store.get("serviceaccounts", NS, "web-cache") is not None
    assert _ready(fakekube)
    assert len(store.list("pods", NS, label_selector="app.kubernetes.io/name=webapp")) == 2
    cache = store.get("statefulsets", NS, "web-cache")
    assert cache["status"]["readyReplicas"] == 1
    assert store.get("persistentvolumeclaims", NS, "data-web-cache-0")["status"]["phase"] == "Bound"
    (release,) = store.list("secrets", NS, label_selector="owner=helm")
    assert release["type"] == "helm.sh/release.v1"
    assert release["metadata"]["labels"]["status"] == "deployed"

    # revision 2 changes the ConfigMap, so the pod template's checksum, so the ReplicaSet
    helm.upgrade("--set", "greeting=hi", "--wait", "--timeout", "30s")
    assert store.get("configmaps", NS, "web-web")["data"] == {"greeting": "hi"}
    replicasets = store.list("replicasets", NS, label_selector="app.kubernetes.io/name=webapp")
    assert sorted(rs["spec"]["replicas"] for rs in replicasets) == [0, 2]
    assert _ready(fakekube)
    history = helm.json("history", RELEASE, "-n", NS)
    assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"), (2, "deployed")]
    status = helm.json("status", RELEASE, "-n", NS)
    assert (status["version"], status["info"]["status"]) == (2, "deployed")
    listed = helm.json("list", "-n", NS)
    assert [(r["name"], r["revision"], r["status"]) for r in listed] == [(RELEASE, "2", "deployed")]
    assert [r["name"] for r in helm.json("list", "-A")] == [RELEASE]

    helm.run("rollback", RELEASE, "1", "-n", NS, "--wait", "--timeout", "30s")
    assert store.get("configmaps", NS, "web-web")["data"] == {"greeting": "hello"}
    history = helm.json("history", RELEASE, "-n", NS)
    assert [(h["revision"], h["status"]) for h in history][-1] == (3, "deployed")
    assert history[-1]["description"] == "Rollback to 1"
    assert _ready(fakekube)

    helm.run("uninstall", RELEASE, "-n", NS, "--wait", "--timeout", "30s")
    for kind in (
        "deployments",
        "replicasets",
        "pods",
        "statefulsets",
        "services",
        "configmaps",
        "serviceaccounts",
    ):
        names = [o["metadata"]["name"] for o in store.list(kind, NS)]
        assert names in ([], ["default"], ["kube-root-ca.crt"]), (kind, names)
    assert store.list("secrets", NS) == []
    assert helm.json("list", "-A") == []


def test_wait_fails_on_crashloop_and_atomic_rolls_back(helm: Helm, fakekube: FakeKube) -> None:
    helm.upgrade("--create-namespace", "--wait", "--timeout", "30s")
    failed = helm.upgrade(
        "--set", "image=example/web:crashloop", "--wait", "--timeout", "2s", helm.atomic_flag(), check=False
    )
    assert failed.returncode != 0
    assert "rolled back" in failed.stderr
    history = helm.json("history", RELEASE, "-n", NS)
    assert [(h["revision"], h["status"]) for h in history] == [
        (1, "superseded"),
        (2, "failed"),
        (3, "deployed"),
    ]
    assert _image(fakekube) == "nginx:1.27"
    fakekube.wait_until(lambda: _ready(fakekube), timeout=5)
    crashing = [
        p
        for p in fakekube.store.list("pods", NS)
        if p["spec"]["containers"][0]["image"] == "example/web:crashloop"
    ]
    assert crashing == []  # the failed ReplicaSet was scaled back down


def test_wait_fails_without_rollback_and_leaves_diagnostics(helm: Helm, fakekube: FakeKube) -> None:
    failed = helm.upgrade(
        "--create-namespace",
        "--set",
        "image=registry.example/doesnotexist:1",
        "--wait",
        "--timeout",
        "2s",
        check=False,
    )
    assert failed.returncode != 0
    assert helm.json("status", RELEASE, "-n", NS)["info"]["status"] == "failed"
    (pod, _) = fakekube.store.list("pods", NS, label_selector="app.kubernetes.io/name=webapp")
    assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ImagePullBackOff"
    warnings = [
        e for e in fakekube.store.list("events", NS) if e["type"] == "Warning" and e["reason"] == "Failed"
    ]
    assert warnings


def test_wait_for_load_balancer_and_legacy_wait(helm: Helm, fakekube: FakeKube) -> None:
    extra = ["--wait=legacy"] if helm.major >= 4 else ["--wait"]
    helm.upgrade("--create-namespace", "--set", "service.type=LoadBalancer", *extra, "--timeout", "30s")
    service = fakekube.store.get("services", NS, "web-web")
    assert service["status"]["loadBalancer"]["ingress"] == [{"hostname": f"web-web.{NS}.lb.fakekube.test"}]


def test_upgrade_keeps_defaults_and_unmanaged_fields(helm: Helm, fakekube: FakeKube) -> None:
    """Helm 3 sends a three-way strategic merge patch, Helm 4 a server-side apply: both must leave the
    server's defaults and other managers' fields alone and change only what the chart changed."""
    helm.upgrade("--create-namespace")
    first = fakekube.store.get("deployments", NS, "web-web")
    fakekube.store.put(
        {**first, "metadata": {**first["metadata"], "annotations": {"other-tool/note": "keep me"}}}
    )
    helm.upgrade("--set", "image=nginx:1.28", "--set", "replicas=3")
    second = fakekube.store.get("deployments", NS, "web-web")
    container = second["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:1.28"
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert second["spec"]["replicas"] == 3
    assert second["metadata"]["annotations"]["other-tool/note"] == "keep me"
    assert second["metadata"]["generation"] == first["metadata"]["generation"] + 1
    writes = {
        r.content_type.split(";")[0] for r in fakekube.requests("PATCH", f"/namespaces/{NS}/deployments/")
    }
    expected = "application/apply-patch+yaml" if helm.major >= 4 else "application/strategic-merge-patch+json"
    assert writes == {expected}


def test_wait_follows_pods_becoming_ready(helm: Helm, fakekube: FakeKube) -> None:
    """Pods turn Ready a second after they start: Helm 4 learns it from watch events, Helm 3 by polling."""
    fakekube.ready_delay = 1.0
    started = time.monotonic()
    helm.upgrade("--create-namespace", "--wait", "--timeout", "20s")
    assert time.monotonic() - started >= 1.0
    assert _ready(fakekube)
    if helm.major >= 4:
        watches = [r for r in fakekube.requests("GET", f"/namespaces/{NS}/deployments") if r.is_watch]
        assert watches
        assert watches[0].query.get("sendInitialEvents") == "true"
