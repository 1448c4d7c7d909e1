"""HelmBinary's cluster operations, Helm 3 and Helm 4, against the session's real cluster.

The cluster is ``real_node`` (tests/realkube.py): a real API server and a real node whose
kubelet runs the chart's pods, so ``--wait`` waits for containers that really start. The app
image comes from the node's registry (tests/realimages.py); a release that can never become
ready asks for a tag that registry lacks. (Not the ``crashloop`` tag: a container without a
readiness probe that exits at once is Ready for a moment after each start on a real kubelet,
and ``helm --wait`` may catch that moment and report success.)
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import pytest
import yaml
from helmtesting import RecordingRunner

from deploytag.adapters.common.process import SubprocessRunner
from deploytag.adapters.helm.binary import HelmBinary
from deploytag.core.errors import ChartError, ReleaseError
from deploytag.ports.helm import KubeTarget, ReleaseInfo
from realimages import NodeImages
from realkube import RealKube

pytestmark = [pytest.mark.helm, pytest.mark.cluster]

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Cluster:
    target: KubeTarget
    namespace: str
    kubeconfig: str
    images: NodeImages

    def image(self, tag: str) -> dict[str, Any]:
        return {"image": {"repository": self.images.app, "tag": tag}}

    @property
    def good(self) -> dict[str, Any]:
        return self.image("1.0.0")

    @property
    def broken(self) -> dict[str, Any]:
        return self.image("missing")  # never pulled, never ready


@pytest.fixture
def cluster(real_node: RealKube, real_images: NodeImages) -> Iterator[Cluster]:
    namespace = f"dt-helm-{secrets.token_hex(4)}"
    kubeconfig = str(real_node.kubeconfig)
    kubectl = SubprocessRunner(extra_path=[str(ROOT / ".tools/bin")])
    base = ["kubectl", "--kubeconfig", kubeconfig]
    if real_node.context:
        base += ["--context", real_node.context]
    kubectl.run(argv=[*base, "create", "namespace", namespace])
    try:
        target = KubeTarget(kubeconfig=kubeconfig, context=real_node.context)
        yield Cluster(target, namespace, kubeconfig, real_images)
    finally:
        kubectl.run(argv=[*base, "delete", "namespace", namespace, "--wait=false"], check=False)


@pytest.fixture
def app(helm: HelmBinary, charts: Path) -> Path:
    helm.dependency_build(chart=charts / "app")
    return charts / "app"


def deploy(
    helm: HelmBinary,
    app: Path,
    cluster: Cluster,
    values: dict[str, Any],
    *,
    wait: bool = True,
    timeout: int = 60,
    atomic: bool = False,
) -> ReleaseInfo:
    return helm.upgrade_install(
        chart=app,
        release="web",
        namespace=cluster.namespace,
        values_files=[],
        values=values,
        wait=wait,
        timeout_seconds=timeout,
        atomic=atomic,
        target=cluster.target,
    )


def helm_cli(helm: HelmBinary, cluster: Cluster) -> list[str]:
    """The same helm, for what the adapter does not do (reading values back, being killed)."""
    context = ["--kube-context", cluster.target.context] if cluster.target.context else []
    return [helm.binary, "--kubeconfig", cluster.kubeconfig, *context, "--namespace", cluster.namespace]


def statuses(helm: HelmBinary, cluster: Cluster) -> list[tuple[int, str]]:
    return [
        (r.revision, r.status)
        for r in helm.history(release="web", namespace=cluster.namespace, target=cluster.target)
    ]


class Where(TypedDict):
    """The keyword arguments that name one release, for ``helm.status(**where)`` and the like."""

    release: str
    namespace: str
    target: KubeTarget


def test_release_lifecycle(helm: HelmBinary, app: Path, cluster: Cluster) -> None:
    where: Where = {"release": "web", "namespace": cluster.namespace, "target": cluster.target}
    assert helm.status(**where) is None
    assert helm.history(**where) == []

    first = deploy(helm, app, cluster, cluster.good)
    assert (first.name, first.namespace, first.revision, first.status) == (
        "web",
        cluster.namespace,
        1,
        "deployed",
    )
    assert (first.chart, first.app_version) == ("app-0.1.0", "1.0.0")

    second = deploy(helm, app, cluster, cluster.image("1.0.1"))
    assert second.revision == 2
    assert statuses(helm, cluster) == [(1, "superseded"), (2, "deployed")]

    helm.rollback(**where, revision=1, wait=True, timeout_seconds=60)
    current = helm.status(**where)
    assert current is not None
    assert (current.revision, current.status) == (3, "deployed")
    assert "Rollback to 1" in current.description

    assert helm.uninstall(
        release="web", namespace=cluster.namespace, timeout_seconds=60, target=cluster.target
    )
    assert helm.status(**where) is None
    assert not helm.uninstall(
        release="web", namespace=cluster.namespace, timeout_seconds=60, target=cluster.target
    )


def test_values_reach_the_release_through_a_file_only(
    helm: HelmBinary, app: Path, cluster: Cluster, runner: RecordingRunner
) -> None:
    sentinel = f"s3cr3t-{secrets.token_hex(6)}"
    deploy(helm, app, cluster, {"auth": {"token": sentinel}, **cluster.good})
    got = runner.inner.run(argv=[*helm_cli(helm, cluster), "get", "values", "web", "-o", "json"])
    assert yaml.safe_load(got.stdout)["auth"]["token"] == sentinel
    assert not any(sentinel in arg for call in runner.calls for arg in call)


def test_no_values_resets_to_the_chart_defaults(
    helm: HelmBinary, app: Path, cluster: Cluster, runner: RecordingRunner
) -> None:
    """An upgrade without values must not quietly reuse the previous release's."""
    deploy(helm, app, cluster, {"replicaCount": 2, **cluster.good})
    deploy(helm, app, cluster, {}, wait=False)  # the chart's default image is not pullable here
    got = runner.inner.run(argv=[*helm_cli(helm, cluster), "get", "values", "web", "-o", "json"])
    assert yaml.safe_load(got.stdout) in (None, {})


def test_failed_upgrade_says_what_to_look_at(helm: HelmBinary, app: Path, cluster: Cluster) -> None:
    deploy(helm, app, cluster, cluster.good)
    with pytest.raises(ReleaseError) as info:
        deploy(helm, app, cluster, cluster.broken, timeout=3)
    assert "kubectl get events" in (info.value.hint or "")
    assert statuses(helm, cluster)[-1] == (2, "failed")
    # The next good push upgrades over the failed revision.
    assert deploy(helm, app, cluster, cluster.good).status == "deployed"


def test_atomic_rolls_back_on_either_helm(helm: HelmBinary, app: Path, cluster: Cluster) -> None:
    deploy(helm, app, cluster, cluster.good)
    with pytest.raises(ReleaseError):
        deploy(helm, app, cluster, cluster.broken, timeout=3, atomic=True)
    current = helm.status(release="web", namespace=cluster.namespace, target=cluster.target)
    assert current is not None
    assert (current.revision, current.status) == (3, "deployed")


def test_first_install_that_failed_can_be_fixed(helm: HelmBinary, app: Path, cluster: Cluster) -> None:
    with pytest.raises(ReleaseError):
        deploy(helm, app, cluster, cluster.broken, timeout=3)
    assert statuses(helm, cluster) == [(1, "failed")]
    assert deploy(helm, app, cluster, cluster.good).status == "deployed"


def kill_helm_midway(helm: HelmBinary, app: Path, cluster: Cluster, pending: str) -> None:
    """Start a real `helm upgrade --install --wait` that cannot finish, and SIGKILL it
    once the release is recorded as ``pending``: what a cancelled CI job leaves."""
    values = app.parent / "broken.yaml"
    values.write_text(yaml.safe_dump(cluster.broken))
    wait = "--wait" if helm.major == 3 else "--wait=watcher"
    argv = [
        *helm_cli(helm, cluster),
        "upgrade",
        "--install",
        "web",
        str(app),
        "-f",
        str(values),
        "--timeout",
        "120s",
        wait,
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:

        def is_pending() -> bool:
            info = helm.status(release="web", namespace=cluster.namespace, target=cluster.target)
            return info is not None and info.status == pending

        wait_for(is_pending)
    finally:
        proc.kill()
        proc.wait()


def wait_for(predicate: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_recovers_a_release_stuck_in_pending_upgrade(helm: HelmBinary, app: Path, cluster: Cluster) -> None:
    deploy(helm, app, cluster, cluster.good)
    kill_helm_midway(helm, app, cluster, "pending-upgrade")
    info = deploy(helm, app, cluster, cluster.good)
    assert info.status == "deployed"
    history = statuses(helm, cluster)
    # 1 deployed, 2 stuck, 3 the rollback to 1, 4 the upgrade.
    assert history[1] == (2, "pending-upgrade")
    assert [h[0] for h in history] == [1, 2, 3, 4]
    assert history[-1] == (4, "deployed")


def test_recovers_a_release_stuck_in_pending_install(helm: HelmBinary, app: Path, cluster: Cluster) -> None:
    kill_helm_midway(helm, app, cluster, "pending-install")
    info = deploy(helm, app, cluster, cluster.good)
    assert (info.revision, info.status) == (1, "deployed")


def test_chart_that_fails_to_render_is_a_chart_error(helm: HelmBinary, app: Path, cluster: Cluster) -> None:
    token = f"tok-{secrets.token_hex(6)}"
    with pytest.raises(ChartError) as info:
        deploy(helm, app, cluster, {"explode": True, "auth": {"token": token}})
    assert "refusing to render with token" in info.value.message
    assert token not in f"{info.value} {getattr(info.value.__cause__, 'output', '')}"
    assert helm.status(release="web", namespace=cluster.namespace, target=cluster.target) is None
