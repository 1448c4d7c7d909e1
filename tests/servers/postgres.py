"""A throwaway PostgreSQL 15 on 127.0.0.1: initdb in a directory, started by hand.

    python -m tests.servers.postgres --dir D [--info FILE]

prints (or writes, 0600) ``{"admin_url": ..., "port": ...}`` and runs until
SIGTERM. PostgreSQL refuses to run as root, so as root it runs as the
``postgres`` user the Debian package created, in a directory owned by it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .common import free_port, launch_listening, run_until_signalled, unprivileged_user, write_info

BIN_DIRS = [Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin")]


def bin_dir() -> Path | None:
    for d in BIN_DIRS:
        if (d / "initdb").is_file():
            return d
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass
class PostgresServer:
    directory: Path
    port: int
    password: str
    process: subprocess.Popen[bytes]

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/postgres"

    def url_with_password(self, password: str) -> str:
        return f"postgresql://postgres:{password}@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.directory.name.startswith("deploytag-pg-"):
            shutil.rmtree(self.directory, ignore_errors=True)


POD_NETWORK = "10.88.0.0/16"  # ../shared/k8s node-up's pod bridge; the host is 10.88.0.1 there


def start(directory: Path, *, port: int | None = None, pod_network: str | None = None) -> PostgresServer:
    """``pod_network``: also accept password logins from that network (pods on the real node),
    listening on every address; pg_hba still admits only loopback and that network."""
    binaries = bin_dir()
    if binaries is None:
        raise FileNotFoundError("PostgreSQL is not installed (apt-get install postgresql-15)")
    directory.mkdir(parents=True, exist_ok=True)
    drop = unprivileged_user("postgres")
    if drop is not None:
        # The postgres user must reach its data directory; pytest's and mktemp's
        # directories are 0700 root, so the server's own directory lives in /tmp.
        directory = Path(tempfile.mkdtemp(prefix="deploytag-pg-"))
    data = directory / "data"
    password = secrets.token_urlsafe(18)
    pwfile = directory / "pw"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o600)
    prefix: list[str] = []
    if drop is not None:
        prefix, uid, gid = drop
        for path in (directory, pwfile):
            os.chown(path, uid, gid)
        directory.chmod(0o700)
    log = directory / "postgres.log"
    subprocess.run(
        [
            *prefix,
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ],
        check=True,
        capture_output=True,
    )
    pwfile.unlink()
    listen = "127.0.0.1"
    if pod_network:
        # The node's bridge may not exist yet (it appears with the first pod), so bind to all.
        listen = "*"
        with (data / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {pod_network} scram-sha-256\n")
    port = port or free_port()
    options = [
        "-c", f"port={port}", "-c", f"listen_addresses={listen}", "-c", f"unix_socket_directories={directory}",
        "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        "-c", "shared_buffers=16MB", "-c", "max_connections=50",
    ]  # fmt: skip
    argv = [*prefix, str(binaries / "postgres"), "-D", str(data), *options]
    process = launch_listening(argv, port=port, log=log, what="postgres")
    return PostgresServer(directory=directory, port=port, password=password, process=process)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests.servers.postgres", description=__doc__)
    parser.add_argument("--dir", required=True, type=Path, help="data directory (created)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--info", type=Path, help="write connection info here (0600) instead of stdout")
    parser.add_argument(
        "--pod-network",
        metavar="CIDR",
        help=f"also accept logins from pods on this network (the real node's is {POD_NETWORK})",
    )
    args = parser.parse_args(argv)
    server = start(args.dir, port=args.port or None, pod_network=args.pod_network)
    write_info(args.info, {"admin_url": server.admin_url, "port": server.port})
    return run_until_signalled(server.process, server.stop)


if __name__ == "__main__":
    raise SystemExit(main())
