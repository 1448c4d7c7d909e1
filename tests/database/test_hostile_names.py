"""Hostile branch names through the name plan to real servers: created, owned, dropped."""

from __future__ import annotations

from typing import Any

import pytest

from deploytag.adapters.databases.dburl import parse_admin_url
from deploytag.adapters.databases.mysql import MySqlDatabase
from deploytag.adapters.databases.postgres import PostgresDatabase
from deploytag.core.naming import derive

BRANCHES = {
    "quote": "feature/it's-a-trap",
    "double-quote": 'feature/"x"',
    "semicolon": "feature/x'; DROP DATABASE postgres; --",
    "backslash": "feature/back\\\\slash",
    "unicode": "feature/ümlaut-日本語-🚀",
    "300-chars": "feature/" + "ab" * 146,
    "underscore-wildcard": "feature/a_b%c",
}


@pytest.mark.parametrize("engine", ["postgres", "mysql"])
def test_planned_names_for_hostile_branches_round_trip(request: pytest.FixtureRequest, engine: str) -> None:
    server: Any = request.getfixturevalue("postgres_server" if engine == "postgres" else "mariadb_server")
    conn = parse_admin_url(server.admin_url, source="test")
    db = PostgresDatabase(connection=conn) if engine == "postgres" else MySqlDatabase(connection=conn)
    plans = [
        derive(
            app="guestbook",
            branch=b,
            commit="c",
            kind="preview",
            environment="preview",
            database_engine=engine,
        )
        for b in BRANCHES.values()
    ]
    assert len({p.database for p in plans}) == len(plans) and len({p.database_role for p in plans}) == len(
        plans
    )
    try:
        for p in plans:
            db.create_role(role=p.database_role, password="Pw-hostile-123", marker="m")
            db.create_database(database=p.database, owner=p.database_role, marker="m", template=None)
        for p in plans:
            assert db.database_state(database=p.database).exists
            db.drop_database(database=p.database)
            db.drop_role(role=p.database_role)
            assert not db.database_state(database=p.database).exists
            assert not db.role_state(role=p.database_role).exists
    finally:
        for p in plans:
            db.drop_database(database=p.database)
            db.drop_role(role=p.database_role)
        db.close()
