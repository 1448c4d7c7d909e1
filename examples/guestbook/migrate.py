"""Apply migrations/NNN_*.sql to DATABASE_URL in order, each once.

DeployTag runs this (``database.migrate`` in deploytag.yaml) after it has
ensured the branch database exists. Applied versions are recorded in
``schema_migrations``; each file runs in its own transaction together with its
record, and a PostgreSQL advisory lock serialises concurrent runs (two pushes
of the same branch, two replicas starting). Without DATABASE_URL it does
nothing and exits 0.

Needs psycopg 3 (installed in the image by Dockerfile.base); it is imported
only when there is something to connect to.

    python migrate.py           apply pending migrations
    python migrate.py --list    print the migrations in the order they apply
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
NAME = re.compile(r"^(\d+)_[A-Za-z0-9_]+\.sql$")
LOCK_ID = 0x6775657374  # "guest": any constant shared by every run of this app


def discover(directory: Path = MIGRATIONS) -> list[tuple[str, Path]]:
    """(version, path) sorted numerically; rejects stray files and duplicate versions."""
    found: dict[int, Path] = {}
    for path in sorted(directory.glob("*.sql")):
        match = NAME.match(path.name)
        if match is None:
            raise SystemExit(f"migrate: {path.name}: name it NNN_description.sql")
        number = int(match.group(1))
        if number in found:
            raise SystemExit(f"migrate: {path.name} and {found[number].name} share version {number}")
        found[number] = path
    return [(path.stem, path) for _, path in sorted(found.items())]


def apply(url: str, migrations: list[tuple[str, Path]]) -> int:
    import psycopg  # only needed when there is a database

    applied_now = 0
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for version, path in migrations:
                if version in done:
                    continue
                print(f"migrate: applying {version}", flush=True)  # a failure rolls this file back
                with conn.transaction():
                    conn.execute(path.read_text(encoding="utf-8"))
                    conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                applied_now += 1
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))
    return applied_now


def main(argv: list[str]) -> int:
    migrations = discover()
    if "--list" in argv:
        for version, _ in migrations:
            print(version)
        return 0
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        print("migrate: DATABASE_URL is not set; nothing to do")
        return 0
    import psycopg

    try:
        count = apply(url, migrations)
    except psycopg.Error as e:
        # psycopg's messages name host and port, never the password; the URL is not printed.
        print(f"migrate: failed: {e.__class__.__name__}: {e}".rstrip(), file=sys.stderr)
        return 1
    print(f"migrate: {count} applied, {len(migrations) - count} already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
