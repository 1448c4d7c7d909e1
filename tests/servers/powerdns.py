"""A real PowerDNS Authoritative server on loopback: gsqlite3 backend, HTTP API with an API key.

``start_powerdns(directory)`` creates the SQLite database from the packaged
schema, writes pdns.conf (0600: it holds the API key), starts ``pdns_server``
on free 127.0.0.1 ports, creates the zone through the API and returns a
``PowerDns`` with the connection info.

``python -m tests.servers.powerdns --dir D`` runs it standalone and writes
``D/powerdns.json`` (url, server_id, zone, api_key, dns_port; 0600).
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .common import free_tcp_udp_port, run_until_signalled

PDNS_SERVER = shutil.which("pdns_server") or "/usr/sbin/pdns_server"
SCHEMA = Path("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql")
INSTALL_HINT = "install PowerDNS: apt-get install pdns-server pdns-backend-sqlite3 (tools/system-packages.sh)"


def available() -> bool:
    return Path(PDNS_SERVER).is_file() and SCHEMA.is_file()


@dataclass
class PowerDns:
    directory: Path
    url: str
    api_key: str
    zone: str
    dns_port: int
    process: subprocess.Popen[bytes]
    server_id: str = "localhost"

    def info(self) -> dict[str, object]:
        return {
            "url": self.url,
            "server_id": self.server_id,
            "zone": self.zone,
            "api_key": self.api_key,
            "dns_port": self.dns_port,
        }

    def api(self, method: str, path: str, body: object = None) -> object:
        request = urllib.request.Request(  # noqa: S310 - our own loopback server
            f"{self.url}/api/v1/servers/{self.server_id}{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"X-API-Key": self.api_key, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - as above
            raw = response.read()
        return json.loads(raw) if raw else None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_powerdns(directory: Path, *, zone: str = "example.net") -> PowerDns:
    directory.mkdir(parents=True, exist_ok=True)
    database = directory / "pdns.sqlite3"
    with sqlite3.connect(database) as db:
        db.executescript(SCHEMA.read_text())
    api_key = secrets.token_hex(16)
    dns_port, web_port = free_tcp_udp_port(), free_tcp_udp_port()
    conf = directory / "pdns.conf"
    conf.touch(mode=0o600)
    conf.write_text(
        "launch=gsqlite3\n"
        f"gsqlite3-database={database}\n"
        f"local-address=127.0.0.1\nlocal-port={dns_port}\n"
        f"socket-dir={directory}\n"
        "webserver=yes\nwebserver-address=127.0.0.1\n"
        f"webserver-port={web_port}\nwebserver-allow-from=127.0.0.0/8\n"
        f"api=yes\napi-key={api_key}\n"
        "daemon=no\nguardian=no\ndisable-syslog=yes\nwrite-pid=no\n"
    )
    log = (directory / "pdns.log").open("wb")
    process = subprocess.Popen(
        [PDNS_SERVER, f"--config-dir={directory}"], stdout=log, stderr=subprocess.STDOUT
    )
    server = PowerDns(directory, f"http://127.0.0.1:{web_port}", api_key, zone, dns_port, process)
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"pdns_server exited with {process.returncode}: {(directory / 'pdns.log').read_text()[-2000:]}"
            )
        try:
            server.api("GET", "/zones")
            break
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(
                    f"pdns_server did not answer within 20 s: {(directory / 'pdns.log').read_text()[-2000:]}"
                ) from None
            time.sleep(0.05)
    server.api("POST", "/zones", {"name": zone + ".", "kind": "Native", "nameservers": [f"ns.{zone}."]})
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="powerdns", description="PowerDNS on loopback for DeployTag's tests"
    )
    parser.add_argument(
        "--dir", required=True, type=Path, help="data directory; powerdns.json is written here"
    )
    parser.add_argument("--zone", default="example.net")
    args = parser.parse_args(argv)
    server = start_powerdns(args.dir.resolve(), zone=args.zone)
    path = args.dir / "powerdns.json"
    path.touch(mode=0o600)
    path.write_text(json.dumps(server.info()))
    print(f"pdns_server API on {server.url} (zone {server.zone})", flush=True)
    return run_until_signalled(server.process, server.stop)


if __name__ == "__main__":
    raise SystemExit(main())
