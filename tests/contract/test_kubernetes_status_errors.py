"""HTTP failures of the API server, as KubernetesCluster reports them.

Statuses an API server gives for real reasons (401 wrong token, 403 protected
namespace, 404, 422 invalid name) come from the session's real cluster
(``real_kube``) and from the fake API (``tests/fakekube``) alike. A slow answer
comes from fakekube alone: a real server cannot be told to answer late.
Throttling, server errors and non-JSON answers, which no client action provokes
on a healthy server, come from a few lines of ``http.server`` below that answer
every request with one canned response. All go through the real SDK over real
sockets.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploytag.adapters.kubernetes import KubernetesCluster
from deploytag.core.errors import ClusterError, NotFoundError, RetryableClusterError
from realkube import RealKube


@pytest.fixture(params=["fakekube", pytest.param("real", marks=pytest.mark.cluster)])
def server(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """(kubeconfig, context) of an API server: fakekube, or the session's real cluster."""
    if request.param == "fakekube":
        return str(request.getfixturevalue("fake_api").kubeconfig), None
    kube: RealKube = request.getfixturevalue("real_kube")
    return str(kube.kubeconfig), kube.context


@pytest.fixture
def cluster(server: tuple[str, str | None]) -> KubernetesCluster:
    return KubernetesCluster(kubeconfig=server[0], context=server[1])


def test_wrong_token_is_not_retryable_and_says_to_log_in(
    server: tuple[str, str | None], tmp_path: Path
) -> None:
    config = yaml.safe_load(Path(server[0]).read_text())
    for user in config["users"]:
        user["user"] = {"token": "expired-token-0000"}  # in place of the client certificate, if any
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ClusterError) as caught:
        KubernetesCluster(kubeconfig=str(path), context=server[1]).list_namespaces(label_selector="a=b")
    error = caught.value
    assert not error.retryable
    assert "did not accept our credentials to list namespaces" in error.message
    assert "log in again" in (error.hint or "")
    assert "expired-token-0000" not in str(error)


def test_forbidden_names_verb_and_resource(cluster: KubernetesCluster) -> None:
    # The API server refuses to delete "default" with 403, as RBAC would.
    with pytest.raises(ClusterError) as caught:
        cluster.delete_namespace(name="default", wait=False, timeout_seconds=0)
    error = caught.value
    assert not error.retryable
    assert "forbids delete namespaces/default" in error.message
    assert "may not be deleted" in error.message  # the server's own words
    assert "kubectl auth can-i delete namespaces" in (error.hint or "")


def test_not_found_where_absence_is_an_error(cluster: KubernetesCluster) -> None:
    with pytest.raises(NotFoundError) as caught:
        cluster.patch_namespace_annotations(name="no-such-env", annotations={"a": "b"})
    assert "namespaces/no-such-env not found" in caught.value.message
    assert caught.value.hint


def test_invalid_name_is_refused_and_not_retryable(cluster: KubernetesCluster) -> None:
    with pytest.raises(ClusterError) as caught:
        cluster.ensure_namespace(name="Not_A_Label", labels={}, annotations={})
    error = caught.value
    assert not error.retryable
    assert "HTTP 422" in error.message
    assert "Not_A_Label" in error.message


def test_slow_server_times_out_as_retryable(fake_api: Any) -> None:
    # fakekube only: its ``latency`` delays every answer; a real server cannot be told to.
    cluster = KubernetesCluster(kubeconfig=str(fake_api.kubeconfig), context=None, request_timeout=(2.0, 0.3))
    fake_api.latency = 1.0
    try:
        with pytest.raises(RetryableClusterError) as caught:
            cluster.get_namespace(name="default")
    finally:
        fake_api.latency = 0.0
    assert "did not answer in time to get namespaces/default" in caught.value.message


# ------------------------------------------------------------------ canned responses


@dataclass
class Canned:
    status: int = 200
    body: bytes = b"{}"
    content_type: str = "application/json"
    echo: bool = False  # put the request body into the Status message, as a careless proxy might


class _CannedServer(ThreadingHTTPServer):
    canned: Canned


class _Handler(BaseHTTPRequestHandler):
    server: _CannedServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request_body = self.rfile.read(length).decode() if length else ""
        canned = self.server.canned
        body = canned.body
        if canned.echo:
            body = json.dumps({"kind": "Status", "message": f"cannot store {request_body}"}).encode()
        self.send_response(canned.status)
        self.send_header("Content-Type", canned.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer


@pytest.fixture
def canned(tmp_path: Path) -> Iterator[tuple[_CannedServer, KubernetesCluster]]:
    server = _CannedServer(("127.0.0.1", 0), _Handler)
    server.canned = Canned()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": url}}],
                "users": [{"name": "u", "user": {"token": "t0ken-abcdef"}}],
                "contexts": [{"name": "canned", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "canned",
            }
        )
    )
    try:
        yield server, KubernetesCluster(kubeconfig=str(path), context=None)
    finally:
        server.shutdown()
        server.server_close()


def _status(code: int, message: str) -> bytes:
    return json.dumps({"kind": "Status", "status": "Failure", "code": code, "message": message}).encode()


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (429, "is throttling requests"),
        (500, "failed to get leases/env in namespace ops (HTTP 500)"),
        (503, "failed to get leases/env in namespace ops (HTTP 503)"),
    ],
)
def test_throttling_and_server_errors_are_retryable(
    canned: tuple[_CannedServer, KubernetesCluster], code: int, words: str
) -> None:
    server, cluster = canned
    server.canned = Canned(status=code, body=_status(code, "etcdserver: request timed out"))
    with pytest.raises(RetryableClusterError) as caught:
        cluster.get_lease(namespace="ops", name="env")
    assert words in caught.value.message
    assert caught.value.hint


def test_conflict_where_it_is_not_expected_is_retryable(
    canned: tuple[_CannedServer, KubernetesCluster],
) -> None:
    server, cluster = canned
    server.canned = Canned(status=409, body=_status(409, "the object has been modified"))
    with pytest.raises(RetryableClusterError) as caught:
        cluster.patch_namespace_annotations(name="env", annotations={"a": None})
    assert "conflict on patch namespaces/env" in caught.value.message


def test_long_server_messages_are_cut_and_scrubbed(canned: tuple[_CannedServer, KubernetesCluster]) -> None:
    server, cluster = canned
    noisy = "upstream said token=abcdef123456 " + "x" * 5000
    server.canned = Canned(status=500, body=_status(500, noisy))
    with pytest.raises(RetryableClusterError) as caught:
        cluster.get_namespace(name="env")
    text = str(caught.value)
    assert "abcdef123456" not in text
    assert len(text) < 800


def test_secret_values_never_reach_the_message(canned: tuple[_CannedServer, KubernetesCluster]) -> None:
    server, cluster = canned
    server.canned = Canned(status=400, echo=True)
    with pytest.raises(ClusterError) as caught:
        cluster.apply_secret(
            namespace="env", name="app", data={"PASSWORD": "hunter2-value"}, labels={}, annotations={}
        )
    assert "HTTP 400" in caught.value.message
    assert "hunter2-value" not in str(caught.value)
    # the body carried base64; the message must not let that through either
    assert "aHVudGVyMi12YWx1ZQ" not in str(caught.value)


def test_an_answer_that_is_not_json(canned: tuple[_CannedServer, KubernetesCluster]) -> None:
    server, cluster = canned
    server.canned = Canned(status=200, body=b"<html>Sign in</html>", content_type="text/html")
    with pytest.raises(ClusterError) as caught:
        cluster.list_namespaces(label_selector="")
    assert "other than JSON" in caught.value.message
    assert "proxy or login page" in (caught.value.hint or "")
