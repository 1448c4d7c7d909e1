"""A real BIND 9 on loopback, primary for one zone, taking RFC 2136 updates signed with TSIG.

``start_bind(directory)`` writes the key (``tsig-keygen``), a zone file and
named.conf into ``directory``, starts ``named -g`` on a free 127.0.0.1 port
and returns a ``Bind`` with the connection info; ``stop()`` ends it.

``python -m tests.servers.bind --dir D`` runs it standalone and writes
``D/bind.json`` (server, port, zone, key_name, key_algorithm, key_secret; 0600).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .common import free_tcp_udp_port, run_until_signalled

NAMED = shutil.which("named") or "/usr/sbin/named"
TSIG_KEYGEN = shutil.which("tsig-keygen") or "/usr/sbin/tsig-keygen"
INSTALL_HINT = "install BIND 9: apt-get install bind9 bind9-utils (tools/system-packages.sh)"


def available() -> bool:
    return Path(NAMED).is_file() and Path(TSIG_KEYGEN).is_file()


@dataclass
class Bind:
    directory: Path
    port: int
    zone: str
    key_name: str
    key_algorithm: str
    key_secret: str
    process: subprocess.Popen[bytes]
    server: str = "127.0.0.1"

    def info(self) -> dict[str, object]:
        return {
            "server": self.server,
            "port": self.port,
            "zone": self.zone,
            "key_name": self.key_name,
            "key_algorithm": self.key_algorithm,
            "key_secret": self.key_secret,
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_bind(directory: Path, *, zone: str = "example.test", key_name: str = "deploytag-key") -> Bind:
    directory.mkdir(parents=True, exist_ok=True)
    key_conf = subprocess.run(
        [TSIG_KEYGEN, "-a", "hmac-sha256", key_name], check=True, capture_output=True, text=True
    ).stdout
    secret = re.search(r'secret "([^"]+)"', key_conf)
    assert secret is not None, "tsig-keygen printed no secret"
    key_file = directory / "tsig.key"
    key_file.touch(mode=0o600)
    key_file.write_text(key_conf)
    (directory / f"{zone}.zone").write_text(
        f"$TTL 300\n@ IN SOA ns.{zone}. hostmaster.{zone}. 1 3600 600 86400 60\n"
        f"@ IN NS ns.{zone}.\nns IN A 127.0.0.1\n"
        # Someone else's record, for the ownership tests.
        f"taken IN CNAME elsewhere.example.net.\n"
    )
    # A free port can be taken by another test server between choosing and binding it; named
    # then runs without listening. Check the listener, and try again on another port.
    for _ in range(3):
        bind = _launch(directory, zone, key_name, key_file, secret.group(1))
        if bind is not None:
            return bind
    raise RuntimeError(
        f"named did not listen after 3 attempts: {(directory / 'named.log').read_text()[-2000:]}"
    )


def _launch(directory: Path, zone: str, key_name: str, key_file: Path, secret: str) -> Bind | None:
    port = free_tcp_udp_port()
    (directory / "named.conf").write_text(
        f'include "{key_file}";\n'
        f'options {{\n  directory "{directory}";\n  pid-file "{directory}/named.pid";\n'
        f"  listen-on port {port} {{ 127.0.0.1; }};\n  listen-on-v6 {{ none; }};\n  recursion no;\n"
        f'  dnssec-validation no;\n  session-keyfile "{directory}/session.key";\n}};\n'
        f"controls {{ }};\n"
        f'zone "{zone}" {{\n  type primary;\n  file "{directory}/{zone}.zone";\n'
        f"  update-policy {{ grant {key_name} zonesub ANY; }};\n}};\n"
    )
    log = (directory / "named.log").open("wb")
    process = subprocess.Popen(
        [NAMED, "-g", "-c", str(directory / "named.conf")], stdout=log, stderr=subprocess.STDOUT
    )
    bind = Bind(directory, port, zone, key_name, "hmac-sha256", secret, process)
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"named exited with {process.returncode}: {(directory / 'named.log').read_text()[-2000:]}"
            )
        if "running" in (directory / "named.log").read_text(errors="replace"):
            if _listening(port):
                return bind
            bind.stop()
            return None
        if time.monotonic() > deadline:
            bind.stop()
            raise RuntimeError(
                f"named did not start within 20 s: {(directory / 'named.log').read_text()[-2000:]}"
            )
        time.sleep(0.05)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bind", description="BIND 9 on loopback for DeployTag's tests")
    parser.add_argument("--dir", required=True, type=Path, help="data directory; bind.json is written here")
    parser.add_argument("--zone", default="example.test")
    args = parser.parse_args(argv)
    bind = start_bind(args.dir.resolve(), zone=args.zone)
    path = args.dir / "bind.json"
    path.touch(mode=0o600)
    path.write_text(json.dumps(bind.info()))
    print(f"named on 127.0.0.1:{bind.port} (zone {bind.zone})", flush=True)
    return run_until_signalled(bind.process, bind.stop)


if __name__ == "__main__":
    raise SystemExit(main())
