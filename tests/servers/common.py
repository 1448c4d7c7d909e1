"""Helpers shared by the server launchers: free ports, waiting, privilege drop."""

from __future__ import annotations

import json
import os
import pwd
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_tcp_udp_port() -> int:
    """A port free for both TCP and UDP: DNS servers listen on both."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = int(t.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


def launch_listening(argv: list[str], *, port: int, log: Path, what: str) -> subprocess.Popen[bytes]:
    """Start a server with its output in ``log`` and wait until it accepts TCP on ``port``."""
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for(lambda: port_open(port) or process.poll() is not None, timeout=30, what=what, log=log)
    if process.poll() is not None:
        raise RuntimeError(f"{what} exited: {log.read_text(errors='replace')[-2000:]}")
    return process


def wait_for(check: Callable[[], bool], *, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not start within {timeout:g} s\n{tail}")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def unprivileged_user(name: str) -> tuple[list[str], int, int] | None:
    """(argv prefix, uid, gid) to run as ``name`` when we are root; None when not root."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam(name)
    prefix = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups"]
    return prefix, entry.pw_uid, entry.pw_gid


def write_info(path: Path | None, info: dict[str, object]) -> None:
    text = json.dumps(info, indent=2)
    if path is None:
        print(text, flush=True)
        return
    path.write_text(text + "\n")
    path.chmod(0o600)


def run_until_signalled(process: subprocess.Popen[bytes], stop: Callable[[], None]) -> int:
    """Keep a launched server up until SIGTERM/SIGINT (0) or until it dies by itself (1)."""
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            if process.poll() is not None:
                return 1
    finally:
        stop()
    return 0
