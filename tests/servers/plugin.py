"""Session fixtures: one real PostgreSQL and one real MariaDB on loopback, started on first use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import mariadb, postgres


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[postgres.PostgresServer]:
    if postgres.bin_dir() is None:
        pytest.skip("PostgreSQL is not installed: apt-get install postgresql-15 (tools/system-packages.sh)")
    server = postgres.start(Path(tmp_path_factory.mktemp("postgres")))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[mariadb.MariaDbServer]:
    if mariadb.binaries() is None:
        pytest.skip("MariaDB is not installed: apt-get install mariadb-server (tools/system-packages.sh)")
    server = mariadb.start(Path(tmp_path_factory.mktemp("mariadb")))
    yield server
    server.stop()
