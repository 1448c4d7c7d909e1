"""A real registry (distribution v2, Debian's ``docker-registry``) on loopback.

    python -m tests.servers.registry --dir D [--user NAME:PASSWORD]

starts one in D (storage, config, log), writes D/registry.json with its host and
prints it; it runs until interrupted. Tests use ``LocalRegistry`` directly.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

BINARY = shutil.which("docker-registry") or shutil.which("registry")
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def htpasswd_line(user: str, password: str) -> str:
    import bcrypt  # distribution accepts bcrypt entries only

    return f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()}"


class LocalRegistry:
    def __init__(self, directory: Path, *, users: dict[str, str] | None = None, token: bool = False) -> None:
        """``users``: htpasswd (Basic) auth; with ``token`` the bearer-token flow instead."""
        self.directory = directory
        self.users = users or {}
        self.token_server: Any = None  # servers.tokenauth.TokenServer
        self._token = token
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LocalRegistry:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> LocalRegistry:
        if BINARY is None:
            raise RuntimeError("docker-registry is not installed (apt-get install docker-registry)")
        self.directory.mkdir(parents=True, exist_ok=True)
        config = [
            "version: 0.1",
            "log: {level: warn}",
            f"storage: {{filesystem: {{rootdirectory: {self.directory / 'data'}}}, delete: {{enabled: true}}}}",
            f"http: {{addr: '{self.host}'}}",
        ]
        if self._token:
            # relative: imported as servers.* by pytest, as tests.servers.* by `python -m`
            from .tokenauth import TokenServer

            self.token_server = TokenServer(self.directory / "token", self.users)
            config.append(self.token_server.registry_config())
        elif self.users:
            htpasswd = self.directory / "htpasswd"
            htpasswd.write_text("".join(htpasswd_line(u, p) + "\n" for u, p in self.users.items()))
            config.append(f"auth: {{htpasswd: {{realm: deploytag-test, path: {htpasswd}}}}}")
        (self.directory / "config.yml").write_text("\n".join(config) + "\n")
        log = (self.directory / "registry.log").open("wb")
        self._proc = subprocess.Popen(
            [BINARY, "serve", str(self.directory / "config.yml")], stdout=log, stderr=log
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"docker-registry exited: {(self.directory / 'registry.log').read_text()[-500:]}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("docker-registry did not start within 15 s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
        if self.token_server is not None:
            self.token_server.stop()

    def manifest_digest(self, name: str, tag: str) -> str | None:
        """The registry's own Docker-Content-Digest for name:tag (HEAD); None when absent."""
        request = urllib.request.Request(f"http://{self.host}/v2/{name}/manifests/{tag}", method="HEAD")
        request.add_header("Accept", ", ".join(MANIFEST_TYPES))
        self._authorize(request, name)
        try:
            with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310  (loopback http)
                return str(resp.headers["Docker-Content-Digest"])
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise

    def tags(self, name: str) -> list[str]:
        """GET /v2/<name>/tags/list, as the registry itself reports it."""
        request = urllib.request.Request(f"http://{self.host}/v2/{name}/tags/list")
        self._authorize(request, name)
        try:
            with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310  (loopback http)
                return sorted(json.loads(resp.read()).get("tags") or [])
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return []
            raise

    def _authorize(self, request: urllib.request.Request, name: str) -> None:
        if self.token_server is not None:
            token = self.token_server.token([f"repository:{name}:pull"])
            request.add_header("Authorization", f"Bearer {token}")
        elif self.users:
            user, password = next(iter(self.users.items()))
            request.add_header(
                "Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--user", help="NAME:PASSWORD for htpasswd auth")
    args = parser.parse_args()
    users = dict([args.user.split(":", 1)]) if args.user else None
    registry = LocalRegistry(args.dir, users=users).start()
    info = {"host": registry.host, "url": f"http://{registry.host}"}
    (args.dir / "registry.json").write_text(json.dumps(info))
    print(json.dumps(info), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    finally:
        registry.stop()


if __name__ == "__main__":
    main()
