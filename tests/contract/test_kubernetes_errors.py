"""How KubernetesCluster reports failures: every one a DeployTag error that says what to do next.

Configuration problems and dead or silent servers need no API server at all;
HTTP statuses (401, 403, 404, 409, 429, 5xx) are answered by the fake API (see
``test_kubernetes_status_errors.py``). Nothing here mocks the SDK: requests go
over real sockets.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploytag.adapters.kubernetes import KubernetesCluster
from deploytag.core.config import ClusterConfig
from deploytag.core.errors import ClusterError, RetryableClusterError


def kubeconfig(
    tmp_path: Path, server: str, *, contexts: tuple[str, ...] = ("dev",), current: str = "dev"
) -> Path:
    entries = "\n".join(
        f"- name: {c}\n  context: {{cluster: c, user: u, namespace: default}}" for c in contexts
    )
    path = tmp_path / "kubeconfig"
    path.write_text(
        textwrap.dedent(
            f"""\
            apiVersion: v1
            kind: Config
            clusters:
            - name: c
              cluster: {{server: "{server}"}}
            users:
            - name: u
              user: {{token: not-a-real-token-123}}
            current-context: "{current}"
            contexts:
            """
        )
        + entries
        + "\n"
    )
    return path


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections (the kernel does, via the backlog) but never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield int(s.getsockname()[1])


def test_missing_kubeconfig_says_how_to_get_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    cluster = KubernetesCluster(kubeconfig=str(tmp_path / "nope"), context=None)
    with pytest.raises(ClusterError) as caught:
        cluster.get_namespace(name="x")
    assert not isinstance(caught.value, RetryableClusterError)
    assert caught.value.hint == "set KUBECONFIG or --kubeconfig; for a local cluster try kind/k3d"


def test_default_kubeconfig_location_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "from-env"))
    with pytest.raises(ClusterError) as caught:
        KubernetesCluster.from_config(config=ClusterConfig()).list_namespaces(label_selector="")
    assert "from-env" in caught.value.message


def test_in_cluster_fallback_is_tried_without_a_kubeconfig(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    if Path("/var/run/secrets/kubernetes.io/serviceaccount/token").exists():
        pytest.skip("running inside a pod: the fallback would succeed")
    with pytest.raises(ClusterError) as caught:
        KubernetesCluster(kubeconfig=None, context=None).get_namespace(name="x")
    assert "in-cluster service account" in caught.value.message
    assert "KUBECONFIG" in (caught.value.hint or "")


def test_explicit_kubeconfig_never_falls_back_to_in_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    with pytest.raises(ClusterError) as caught:
        KubernetesCluster(kubeconfig=str(tmp_path / "typo"), context=None).get_namespace(name="x")
    assert "no kubeconfig found" in caught.value.message


def test_unknown_context_lists_the_choices(tmp_path: Path, closed_port: int) -> None:
    path = kubeconfig(tmp_path, f"http://127.0.0.1:{closed_port}", contexts=("dev", "prod"))
    with pytest.raises(ClusterError) as caught:
        KubernetesCluster(kubeconfig=str(path), context="staging").describe()
    assert "staging" in caught.value.message
    assert "dev, prod" in (caught.value.hint or "")


def test_kubeconfig_without_current_context(tmp_path: Path, closed_port: int) -> None:
    path = kubeconfig(tmp_path, f"http://127.0.0.1:{closed_port}", current="")
    with pytest.raises(ClusterError) as caught:
        KubernetesCluster(kubeconfig=str(path), context=None).describe()
    assert "--context" in (caught.value.hint or "")
    assert KubernetesCluster(kubeconfig=str(path), context="dev").describe().startswith("context dev (")


def test_describe_names_context_and_server(tmp_path: Path, closed_port: int) -> None:
    server = f"http://127.0.0.1:{closed_port}"
    path = kubeconfig(tmp_path, server)
    assert KubernetesCluster(kubeconfig=str(path), context=None).describe() == f"context dev ({server})"


def test_connection_refused_is_retryable_with_a_hint(tmp_path: Path, closed_port: int) -> None:
    path = kubeconfig(tmp_path, f"http://127.0.0.1:{closed_port}")
    cluster = KubernetesCluster(kubeconfig=str(path), context=None)
    with pytest.raises(RetryableClusterError) as caught:
        cluster.ensure_namespace(name="x", labels={}, annotations={})
    error = caught.value
    assert error.retryable
    assert "cannot reach context dev" in error.message
    assert "create namespaces/x" in error.message
    assert "kind/k3d" in (error.hint or "")
    assert "not-a-real-token" not in str(error)
    assert isinstance(error.__cause__, Exception)  # raised from the transport error


def test_silent_server_times_out_as_retryable(tmp_path: Path, silent_server: int) -> None:
    path = kubeconfig(tmp_path, f"http://127.0.0.1:{silent_server}")
    cluster = KubernetesCluster(kubeconfig=str(path), context=None, request_timeout=(1.0, 0.5))
    started = time.monotonic()
    with pytest.raises(RetryableClusterError) as caught:
        cluster.get_lease(namespace="default", name="env")
    assert "did not answer in time" in caught.value.message
    assert "get leases/env in namespace default" in caught.value.message
    assert time.monotonic() - started < 15


def test_the_sdk_is_never_imported_for_a_token_kubeconfig(tmp_path: Path, closed_port: int) -> None:
    path = kubeconfig(tmp_path, f"http://127.0.0.1:{closed_port}")
    code = textwrap.dedent(
        f"""
        import sys
        from deploytag.adapters.kubernetes import KubernetesCluster
        from deploytag.core.errors import RetryableClusterError
        cluster = KubernetesCluster(kubeconfig={str(path)!r}, context=None)
        cluster.describe()
        try:
            cluster.get_namespace(name="x")
        except RetryableClusterError:
            pass  # nothing listens: the request went through the direct transport
        assert "deploytag.adapters.kubernetes.transport" in sys.modules
        assert "kubernetes" not in sys.modules and "urllib3" not in sys.modules
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_sdk_fallback_is_imported_only_on_first_request(tmp_path: Path, closed_port: int) -> None:
    # A legacy auth-provider is what the direct transport leaves to the official client.
    path = kubeconfig(tmp_path, f"http://127.0.0.1:{closed_port}")
    path.write_text(
        path.read_text().replace(
            "{token: not-a-real-token-123}",
            "{auth-provider: {name: oidc, config: {id-token: not-a-real-token-123, client-id: x}}}",
        )
    )
    code = textwrap.dedent(
        f"""
        import sys
        from deploytag.adapters.kubernetes import KubernetesCluster
        cluster = KubernetesCluster(kubeconfig={str(path)!r}, context=None)
        assert "kubernetes" not in sys.modules, "imported at construction"
        assert cluster.describe() == "context dev (http://127.0.0.1:{closed_port})"
        assert "kubernetes" in sys.modules
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
