"""The direct transport's own behaviour: KUBECONFIG lists merged as kubectl merges them, the SDK
fallback for proxies, basic auth, keep-alive connections shared by threads.

Against the real API server where it can answer; basic auth (which Kubernetes removed in 1.19)
against a few lines of ``http.server`` that report the header they received. Nothing is mocked.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubeauth import Admin, Identities
from kubeauth import write_kubeconfig as write

from deploytag.adapters.kubernetes import KubernetesCluster
from deploytag.core.errors import ClusterError, RetryableClusterError
from realkube import RealKube


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def forbidden_user(cluster: KubernetesCluster) -> str:
    with pytest.raises(ClusterError) as caught:
        cluster.get_namespace(name="kube-system")
    return caught.value.message.split('User "')[1].split('"')[0]


@pytest.mark.cluster
def test_a_kubeconfig_list_is_merged_first_file_wins(
    tmp_path: Path, admin: Admin, ids: Identities, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = {
        "clusters": [{"name": "c", "cluster": admin.cluster()}],
        "users": [{"name": "u", "user": {"token": ids.alpha}}],
        "contexts": [{"name": "dev", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "dev",
    }
    second = {
        "clusters": [{"name": "c", "cluster": {"server": f"https://127.0.0.1:{closed_port}"}}],
        "users": [
            {"name": "u", "user": {"token": "not-this-one"}},
            {"name": "u2", "user": {"token": ids.beta}},
        ],
        "contexts": [
            {"name": "dev", "context": {"cluster": "c", "user": "u2"}},
            {"name": "other", "context": {"cluster": "c", "user": "u2"}},  # the first file's cluster c
        ],
        "current-context": "other",
    }
    paths = [tmp_path / "first", tmp_path / "missing", tmp_path / "second"]
    paths[0].write_text(yaml.safe_dump(first))
    paths[2].write_text(yaml.safe_dump(second))
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(str(p) for p in paths))
    current = KubernetesCluster(kubeconfig=None, context=None)
    assert current.describe() == f"context dev ({admin.server})"
    assert forbidden_user(current) == ids.user("alpha")
    other = KubernetesCluster(kubeconfig=None, context="other")
    assert other.describe() == f"context other ({admin.server})"
    assert forbidden_user(other) == ids.user("beta")


_PROBE = textwrap.dedent(
    """
    import sys
    from deploytag.adapters.kubernetes import KubernetesCluster
    from deploytag.core.errors import ClusterError
    cluster = KubernetesCluster(kubeconfig=sys.argv[1], context=None)
    try:
        cluster.list_services(namespace=sys.argv[2])
        print("ok")
    except ClusterError as e:
        print(e.message)
    print("sdk" if "kubernetes" in sys.modules else "direct")
    """
)


@pytest.mark.cluster
def test_a_proxy_in_the_environment_goes_through_the_sdk_unless_no_proxy_bypasses_it(
    tmp_path: Path, admin: Admin, ids: Identities, closed_port: int
) -> None:
    path = write(tmp_path / "k", admin.cluster(), {"token": ids.alpha})
    base = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    proxy = f"http://127.0.0.1:{closed_port}"

    def probe(**env: str) -> list[str]:
        args = [sys.executable, "-c", _PROBE, str(path), ids.namespace]
        proc = subprocess.run(
            args, env={**base, **env}, capture_output=True, text=True, timeout=120, check=False
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.splitlines()

    assert probe() == ["ok", "direct"]
    through_proxy = probe(HTTPS_PROXY=proxy)
    assert through_proxy[1] == "sdk"
    assert through_proxy[0].startswith(f"cannot reach context dev ({admin.server})")  # the proxy is down
    host = admin.server.split("//")[1].rsplit(":", 1)[0].strip("[]")
    assert probe(HTTPS_PROXY=proxy, NO_PROXY=f"example.com,{host}") == ["ok", "direct"]
    write(tmp_path / "k", admin.cluster(**{"proxy-url": proxy}), {"token": ids.alpha})
    assert probe()[1] == "sdk"  # a cluster's proxy-url is left to the official client too


# The same writes and reads through either path, printed for comparison: create-or-replace,
# conditional replace and delete (DeleteOptions body), label-selected lists, a merge patch.
_WORKOUT = textwrap.dedent(
    """
    import json, sys
    from deploytag.adapters.kubernetes import KubernetesCluster
    from deploytag.ports.cluster import ObjectRef
    cluster = KubernetesCluster(kubeconfig=sys.argv[1], context=None)
    ns = sys.argv[2]
    name = "workout-" + sys.argv[3]
    seen = []
    cluster.apply_secret(namespace=ns, name=name, data={"K": "v1"}, labels={"w": name}, annotations={})
    cluster.apply_secret(namespace=ns, name=name, data={"K": "v2"}, labels={"w": name}, annotations={})
    seen.append(cluster.read_secret_values(namespace=ns, name=name, keys=["K"]))
    seen.append([s.name for s in cluster.list_secrets(namespace=ns, label_selector="w=" + name)])
    lease = cluster.try_acquire_lease(namespace=ns, name=name, holder="me", duration_seconds=30, now=1e9)
    seen.append(lease.holder if lease else None)
    lease = cluster.annotate_lease(namespace=ns, name=name, annotations={"a": "b"}, version=lease.version)
    seen.append(lease.annotations.get("a") if lease else None)
    seen.append([l.name for l in cluster.list_leases(namespace=ns, label_selector="app.kubernetes.io/managed-by")])
    cluster.release_lease(namespace=ns, name=name, holder="me")
    seen.append(cluster.get_lease(namespace=ns, name=name))
    ref = ObjectRef(api_version="v1", kind="Secret", resource="secrets", namespace=ns, name=name)
    cluster.remove_finalizers(ref=ref)
    cluster.delete_secret(namespace=ns, name=name)
    seen.append(cluster.get_secret_keys(namespace=ns, name=name))
    print(json.dumps(seen))
    print("sdk" if "kubernetes" in sys.modules else "direct")
    """
)


@pytest.mark.cluster
def test_the_sdk_fallback_and_the_direct_transport_do_the_same(
    tmp_path: Path, admin: Admin, ids: Identities
) -> None:
    # A legacy oidc auth-provider whose id-token is a (JWT) ServiceAccount token: the official
    # client sends it as the bearer token, as it would an OIDC provider's.
    oidc = {"auth-provider": {"name": "oidc", "config": {"id-token": ids.gamma, "client-id": "deploytag"}}}
    results = []
    for label, user in (("direct", {"token": ids.gamma}), ("sdk", oidc)):
        path = write(tmp_path / label, admin.cluster(), user)
        args = [sys.executable, "-c", _WORKOUT, str(path), ids.namespace, label]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        out, used = proc.stdout.splitlines()
        assert used == label
        results.append(out.replace(label, "NAME"))
    assert results[0] == results[1]
    assert results[0] == ('[{"K": "v2"}, ["workout-NAME"], "me", "b", ["workout-NAME"], null, null]')


@pytest.mark.cluster
def test_threads_share_a_few_kept_alive_connections(real_kube: RealKube) -> None:
    cluster = KubernetesCluster(kubeconfig=str(real_kube.kubeconfig), context=real_kube.context)

    def sockets() -> int:
        fds = Path("/proc/self/fd")
        return sum(1 for fd in fds.iterdir() if os.path.realpath(fd).startswith("socket:") or _is_socket(fd))

    assert cluster.get_namespace(name="default") is not None
    before = sockets()
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda _: cluster.get_namespace(name="default"), range(200)))
    assert all(ns is not None and ns.name == "default" for ns in found)
    assert sockets() <= before + 8  # idle connections kept: at most the pool's size


def _is_socket(fd: Path) -> bool:
    try:
        return os.readlink(fd).startswith("socket:")
    except OSError:
        return False


# ------------------------------------------------------------------ basic auth, on a local server


class _Recorder(ThreadingHTTPServer):
    seen: list[str]
    drop_after_answer = False


class _Handler(BaseHTTPRequestHandler):
    server: _Recorder
    protocol_version = "HTTP/1.1"  # keep-alive, as the API server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.seen.append(self.headers.get("Authorization") or "")
        body = b'{"kind": "Namespace", "metadata": {"name": "default"}, "status": {"phase": "Active"}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = self.server.drop_after_answer  # no "Connection: close" said


@pytest.fixture
def recorder() -> Iterator[_Recorder]:
    server = _Recorder(("127.0.0.1", 0), _Handler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_basic_auth_and_kept_alive_connections(tmp_path: Path, recorder: _Recorder) -> None:
    url = f"http://127.0.0.1:{recorder.server_address[1]}"
    path = write(tmp_path / "k", {"server": url}, {"username": "ada", "password": "pa55-word"})
    cluster = KubernetesCluster(kubeconfig=str(path), context=None)
    for _ in range(3):
        assert cluster.get_namespace(name="default") is not None
    assert recorder.seen == ["Basic " + base64.b64encode(b"ada:pa55-word").decode()] * 3


def test_a_server_that_drops_idle_connections_is_reconnected_to(tmp_path: Path, recorder: _Recorder) -> None:
    # As a load balancer's idle timeout does: kept-alive connections closed without a word.
    recorder.drop_after_answer = True
    url = f"http://127.0.0.1:{recorder.server_address[1]}"
    path = write(tmp_path / "k", {"server": url}, {"token": "t0ken"})
    cluster = KubernetesCluster(kubeconfig=str(path), context=None)
    for _ in range(3):
        assert cluster.get_namespace(name="default") is not None
    assert recorder.seen == ["Bearer t0ken"] * 3


def test_a_kubeconfig_whose_certificate_file_is_missing(tmp_path: Path, closed_port: int) -> None:
    path = write(
        tmp_path / "k",
        {"server": f"https://127.0.0.1:{closed_port}", "certificate-authority": "nowhere/ca.crt"},
        {"token": "t0ken-abcdef"},
    )
    with pytest.raises(ClusterError) as caught:
        KubernetesCluster(kubeconfig=str(path), context=None).describe()
    assert not isinstance(caught.value, RetryableClusterError)
    assert f"cannot load context dev from kubeconfig {path}" in caught.value.message
    assert "certificate-authority file" in caught.value.message
    assert "kubectl config view --minify" in (caught.value.hint or "")
