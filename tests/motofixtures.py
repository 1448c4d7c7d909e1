"""Fixtures: a real ``moto_server`` over HTTP and an isolated AWS environment (a pytest plugin,
loaded by tests/conftest.py).

The server runs once per session on a free loopback port and is reset before
each test that uses it (``POST /moto-api/reset``), so tests never see each
other's secrets.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

REGION = "us-east-1"
# The one installed beside this interpreter (the venv's), else whichever is on PATH.
_BESIDE = Path(sys.executable).with_name("moto_server")
MOTO_SERVER = _BESIDE if _BESIDE.is_file() else Path(shutil.which("moto_server") or _BESIDE)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def moto_post(endpoint: str, path: str, data: bytes = b"") -> bytes:
    # moto reads the raw body; a form content type would make Flask swallow it.
    request = urllib.request.Request(  # noqa: S310 - our own loopback http:// endpoint
        endpoint + path, data=data, method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - as above
        body: bytes = response.read()
        return body


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not MOTO_SERVER.is_file():
        pytest.skip(f"{MOTO_SERVER} not found: install the dev extra (pip install -e '.[dev]')")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("moto") / "moto_server.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    pytest.fail(
                        f"moto_server exited with {process.returncode}: {log_path.read_text()[-2000:]}"
                    )
                try:
                    with urllib.request.urlopen(endpoint + "/moto-api/", timeout=1):  # noqa: S310 - loopback
                        break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    if time.monotonic() > deadline:
                        pytest.fail(f"moto_server did not answer on {endpoint} within 30 s")
                    time.sleep(0.1)
            yield endpoint
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials and nothing from the developer's own AWS setup (profiles, SSO, IMDS)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    # Without this a missing credential would make botocore probe the EC2
    # metadata address and the test would wait for its timeout.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # Failure tests want the first answer, not botocore's retries with back-off.
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    return free_port()


@pytest.fixture
def moto_api(moto_endpoint: str) -> Callable[[str, bytes], bytes]:
    """POST to moto's control API (``/moto-api/...``) of the session's server."""

    def post(path: str, data: bytes = b"") -> bytes:
        return moto_post(moto_endpoint, path, data)

    return post


@pytest.fixture
def moto(moto_endpoint: str, aws_env: None) -> str:
    """The moto endpoint, emptied for this test."""
    moto_post(moto_endpoint, "/moto-api/reset")
    return moto_endpoint


@pytest.fixture
def sm(moto: str) -> SecretsManagerClient:
    """A plain boto3 client for arranging secrets (the store under test makes its own)."""
    import boto3

    return boto3.client("secretsmanager", endpoint_url=moto, region_name=REGION)
