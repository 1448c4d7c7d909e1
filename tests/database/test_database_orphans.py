"""The orphan sweep's database part on the real PostgreSQL and MariaDB: branch databases and roles
marked for a namespace that is no live environment are found and dropped; this app's live ones,
one whose deploy is running, and other apps' are left alone."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import pytest

from deploytag.adapters.databases.dburl import parse_admin_url
from deploytag.adapters.databases.mysql import MySqlDatabase
from deploytag.adapters.databases.postgres import PostgresDatabase
from deploytag.adapters.memory.cluster import MemoryCluster
from deploytag.service import orphans
from fleetsetup import configured, example_repo, live_environment, namespace_for, new_app

KINDS = frozenset({orphans.DATABASE, orphans.ROLE})


@pytest.fixture(params=["postgres", "mysql"])
def db(request: pytest.FixtureRequest) -> Any:
    server = request.getfixturevalue("postgres_server" if request.param == "postgres" else "mariadb_server")
    conn = parse_admin_url(server.admin_url, source="test")
    adapter = (
        PostgresDatabase(connection=conn) if request.param == "postgres" else MySqlDatabase(connection=conn)
    )
    yield adapter
    adapter.close()


def test_databases_of_gone_environments_are_found_and_dropped(db: Any, tmp_path: Path) -> None:
    cluster, app = MemoryCluster(), new_app()
    environ = {"DEPLOYTAG_DATABASE__ENGINE": db.engine}
    loaded, providers = configured(
        example_repo(tmp_path), app=app, cluster=cluster, environ=environ, database=db
    )
    live = live_environment(cluster, loaded, "feature/live")
    gone, busy = namespace_for(loaded, "feature/gone"), namespace_for(loaded, "feature/busy")
    assert cluster.try_acquire_lease(
        namespace="default", name=f"deploytag-{busy}", holder="run", duration_seconds=60, now=time.time()
    )
    tag = secrets.token_hex(3)
    made = {}
    for key, namespace in (("live", live), ("gone", gone), ("busy", busy), ("other", f"x{app}-feature-gone")):
        role, name = f"r{tag}{key}", f"d{tag}{key}"
        db.create_role(role=role, password="Pw-sweep-9Z", marker=f"deploytag.dev/namespace={namespace}")
        db.create_database(
            database=name, owner=role, marker=f"deploytag.dev/namespace={namespace}", template=None
        )
        made[key] = (role, name)
    try:
        found = orphans.find_orphans(loaded=loaded, providers=providers, kinds=KINDS)
        role, name = made["gone"]
        assert [(o.kind, o.name, o.owner) for o in found] == [
            ("database", name, f"namespace={gone}"),
            ("role", role, f"namespace={gone}"),
        ]
        results = orphans.remove_orphans(loaded=loaded, providers=providers, orphans=found)
        assert [(r.removed, r.error) for r in results] == [(True, ""), (True, "")]
        assert not db.database_state(database=name).exists and not db.role_state(role=role).exists
        for key in ("live", "busy", "other"):
            assert db.database_state(database=made[key][1]).exists and db.role_state(role=made[key][0]).exists
        assert orphans.find_orphans(loaded=loaded, providers=providers, kinds=KINDS) == []
    finally:
        for role, name in made.values():
            db.drop_database(database=name)
            db.drop_role(role=role)
