"""Readiness checks: can this process reach what it depends on right now?

Details are safe to show: they name hosts and ports, never a password or the
database URL itself (it usually carries credentials).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from guestbook.storage import Store

DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "mysql": 3306, "mariadb": 3306}


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class DatabaseTarget:
    """The parts of DATABASE_URL a connectivity check needs; no credentials kept."""

    scheme: str
    host: str
    port: int
    database: str


def parse_database_url(url: str) -> DatabaseTarget:
    """``postgresql://user:pass@db:5432/app`` -> DatabaseTarget('postgresql', 'db', 5432, 'app').

    Raises ValueError with a message that never contains the URL.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ValueError("DATABASE_URL is not a valid URL") from None
    scheme = parts.scheme.split("+", 1)[0].lower()  # postgresql+psycopg -> postgresql
    if scheme not in DEFAULT_PORTS:
        known = ", ".join(sorted(DEFAULT_PORTS))
        raise ValueError(f"DATABASE_URL scheme {scheme or '(none)'!r} is not one of {known}")
    if not parts.hostname:
        raise ValueError("DATABASE_URL has no host")
    database = parts.path.lstrip("/")
    if not database:
        raise ValueError("DATABASE_URL names no database")
    return DatabaseTarget(
        scheme=scheme,
        host=parts.hostname,
        port=port or DEFAULT_PORTS[scheme],
        database=database,
    )


def check_tcp(name: str, host: str, port: int, timeout: float) -> CheckResult:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as e:
        return CheckResult(name, False, f"{host}:{port} unreachable: {e.strerror or e.__class__.__name__}")
    return CheckResult(name, True, f"{host}:{port} reachable")


def check_database(url: str, timeout: float = 1.0) -> CheckResult:
    try:
        target = parse_database_url(url)
    except ValueError as e:
        return CheckResult("database", False, str(e))
    return check_tcp("database", target.host, target.port, timeout)


def check_store(store: Store) -> CheckResult:
    try:
        store.ping()
    except Exception as e:  # any failure means "not ready"; the reason goes to the probe output
        return CheckResult(store.kind, False, f"{e.__class__.__name__}: {e}")
    return CheckResult(store.kind, True, "ok")
