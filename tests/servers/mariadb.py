"""A throwaway MariaDB on 127.0.0.1: mariadb-install-db in a directory, started by hand.

    python -m tests.servers.mariadb --dir D [--info FILE]

prints (or writes, 0600) ``{"admin_url": ..., "port": ...}`` and runs until
SIGTERM. As root, mariadbd needs ``--user=root``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .common import free_port, launch_listening, run_until_signalled, write_info


def binaries() -> tuple[str, str] | None:
    server = shutil.which("mariadbd") or (
        "/usr/sbin/mariadbd" if Path("/usr/sbin/mariadbd").is_file() else None
    )
    install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    return (server, install) if server and install else None


@dataclass
class MariaDbServer:
    directory: Path
    port: int
    password: str
    process: subprocess.Popen[bytes]

    @property
    def admin_url(self) -> str:
        return f"mysql://root:{self.password}@127.0.0.1:{self.port}/"

    def url_with_password(self, password: str) -> str:
        return f"mysql://root:{password}@127.0.0.1:{self.port}/"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(directory: Path, *, port: int | None = None) -> MariaDbServer:
    found = binaries()
    if found is None:
        raise FileNotFoundError("MariaDB is not installed (apt-get install mariadb-server)")
    server, install = found
    directory.mkdir(parents=True, exist_ok=True)
    data, socket_path, log = directory / "data", directory / "mysqld.sock", directory / "mariadb.log"
    user = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(
        [install, f"--datadir={data}", "--auth-root-authentication-method=normal", "--skip-test-db", *user],
        check=True,
        capture_output=True,
    )
    port = port or free_port()
    password = secrets.token_urlsafe(18)
    init = directory / "init.sql"
    # Loopback TCP login with a password, as an admin URL would give it.
    init.write_text(
        "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';\n"
        f"ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '{password}';\n"
        "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;\n"
        f"ALTER USER 'root'@'localhost' IDENTIFIED BY '{password}';\n"
    )
    init.chmod(0o600)
    argv = [
        server, "--no-defaults", f"--datadir={data}", f"--socket={socket_path}", f"--port={port}",
        "--bind-address=127.0.0.1", f"--init-file={init}", f"--pid-file={directory / 'mariadb.pid'}",
        "--skip-name-resolve", "--innodb-buffer-pool-size=16M", "--innodb-flush-log-at-trx-commit=0",
        "--skip-log-bin", *user,
    ]  # fmt: skip
    process = launch_listening(argv, port=port, log=log, what="mariadbd")
    return MariaDbServer(directory=directory, port=port, password=password, process=process)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests.servers.mariadb", description=__doc__)
    parser.add_argument("--dir", required=True, type=Path, help="data directory (created)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--info", type=Path, help="write connection info here (0600) instead of stdout")
    args = parser.parse_args(argv)
    server = start(args.dir, port=args.port or None)
    write_info(args.info, {"admin_url": server.admin_url, "port": server.port})
    return run_until_signalled(server.process, server.stop)


if __name__ == "__main__":
    raise SystemExit(main())
