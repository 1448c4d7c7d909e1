"""The PostgreSQL and MySQL adapters against real servers: hostile names, bad login, server down."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from deploytag.adapters.databases.dburl import parse_admin_url
from deploytag.adapters.databases.mysql import MySqlDatabase
from deploytag.adapters.databases.postgres import PostgresDatabase
from deploytag.core.errors import DatabaseError, RetryableDatabaseError
from deploytag.ports.database import Database

HOSTILE = [
    "it's",
    'say "hi"',
    "x; DROP DATABASE postgres; --",
    "back\\slash",
    "tick`tock",
    "ümlaut-日本",
    "100%_wild",
]


def connect(engine: str, url: str) -> Database:
    conn = parse_admin_url(url, source="test")
    return PostgresDatabase(connection=conn) if engine == "postgres" else MySqlDatabase(connection=conn)


@pytest.fixture(params=["postgres", "mysql"])
def server(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("postgres_server" if request.param == "postgres" else "mariadb_server")


@pytest.fixture
def db(request: pytest.FixtureRequest, server: Any) -> Any:
    engine = "postgres" if "postgres" in server.admin_url else "mysql"
    adapter = connect(engine, server.admin_url)
    yield adapter
    adapter.close()


def login(engine: str, port: int, user: str, password: str, database: str) -> None:
    """Connect as the branch role: proves the password and the grants, not just the rows."""
    if engine == "postgres":
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=port, user=user, password=password, dbname=database) as c:
            c.execute("CREATE TABLE t (id int)")
    else:
        import pymysql

        conn = pymysql.connect(host="127.0.0.1", port=port, user=user, password=password, database=database)
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE TABLE t (id int)")
        finally:
            conn.close()


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_names_are_created_owned_and_dropped(db: Any, server: Any, raw: str) -> None:
    role = f"r {raw}"[:32]
    name = f"d {raw}"
    assert not db.database_state(database=name).exists
    db.create_role(role=role, password="Pw-hostile-9Z", marker="deploytag.dev/namespace=t")
    db.create_database(database=name, owner=role, marker="deploytag.dev/namespace=t", template=None)
    state = db.database_state(database=name)
    assert state.exists and state.marker == "deploytag.dev/namespace=t" and state.owner == role
    assert db.role_state(role=role).exists
    login(db.engine, server.port, role, "Pw-hostile-9Z", name)
    db.drop_database(database=name)
    db.drop_role(role=role)
    assert not db.database_state(database=name).exists
    assert not db.role_state(role=role).exists
    # Nothing else was touched: the admin database is still there.
    assert db.database_state(database="postgres" if db.engine == "postgres" else "mysql").exists


def test_mysql_grant_does_not_spill_to_lookalike_databases(mariadb_server: Any) -> None:
    """In GRANT, '_' is a wildcard: the grant on a_b must not open aXb."""
    import pymysql

    db = connect("mysql", mariadb_server.admin_url)
    db.create_role(role="spill_rw", password="Pw-spill-123", marker="m")
    db.create_role(role="other_rw", password="Pw-other-123", marker="m")
    db.create_database(database="a_b", owner="spill_rw", marker="m", template=None)
    db.create_database(database="aXb", owner="other_rw", marker="m", template=None)
    try:
        login("mysql", mariadb_server.port, "spill_rw", "Pw-spill-123", "a_b")
        with pytest.raises(pymysql.err.OperationalError, match="denied"):
            login("mysql", mariadb_server.port, "spill_rw", "Pw-spill-123", "aXb")
    finally:
        for name in ("a_b", "aXb"):
            db.drop_database(database=name)
        for role in ("spill_rw", "other_rw"):
            db.drop_role(role=role)


def test_over_long_names_are_refused_before_the_server(db: Any) -> None:
    with pytest.raises(DatabaseError, match="not a valid"):
        db.database_state(database="x" * 300)


def test_bad_admin_password_is_one_clear_line(server: Any) -> None:
    engine = "postgres" if "postgres" in server.admin_url else "mysql"
    db = connect(engine, server.url_with_password("wrong-password-123"))
    with pytest.raises(DatabaseError) as info:
        db.role_state(role="anything")
    assert "admin login refused" in str(info.value)
    assert not info.value.retryable
    assert "wrong-password-123" not in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("engine", ["postgres", "mysql"])
def test_server_down_is_retryable_and_names_the_server(engine: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    scheme = "postgresql" if engine == "postgres" else "mysql"
    db = connect(engine, f"{scheme}://admin:Secret-Pw-1@127.0.0.1:{port}/")
    with pytest.raises(RetryableDatabaseError) as info:
        db.role_state(role="anything")
    assert f"127.0.0.1:{port}" in str(info.value)
    assert "Secret-Pw-1" not in str(info.value)


def test_postgres_password_never_travels_in_sql_text(postgres_server: Any) -> None:
    """With statement logging on, the server log shows CREATE/ALTER ROLE but never the password."""
    import psycopg

    with psycopg.connect(postgres_server.admin_url, autocommit=True) as admin:
        admin.execute("ALTER ROLE postgres SET log_statement = 'all'")
    adapter = connect("postgres", postgres_server.admin_url)
    try:
        adapter.create_role(role="scram_probe", password="plain-Pa55-never-logged", marker="test")
        adapter.set_password(role="scram_probe", password="rotated-Pa55-never-logged")
        with psycopg.connect(
            host="127.0.0.1", port=postgres_server.port, user="scram_probe",
            password="rotated-Pa55-never-logged", dbname="postgres",
        ) as probe:  # fmt: skip
            assert probe.execute("SELECT current_user").fetchone() == ("scram_probe",)
    finally:
        adapter.drop_role(role="scram_probe")
        adapter.close()
        with psycopg.connect(postgres_server.admin_url, autocommit=True) as admin:
            admin.execute("ALTER ROLE postgres RESET log_statement")
    log = (postgres_server.directory / "postgres.log").read_text(errors="replace")
    assert 'CREATE ROLE "scram_probe"' in log  # statement logging was on
    assert "never-logged" not in log


def test_list_marked_finds_ours_by_marker_prefix_and_nothing_else(db: Any) -> None:
    """What the orphan sweep reads: databases and roles marked for a namespace, listed server-wide."""
    import secrets

    tag = secrets.token_hex(3)
    marker = f"deploytag.dev/namespace=sweep-{tag}_x%"  # LIKE wildcards in the marker match literally
    role, name, foreign = f"sweep_{tag}", f"sweep_{tag}", f"sweep_{tag}_foreign"
    db.create_role(role=role, password="Pw-sweep-9Z", marker=marker)
    db.create_database(database=name, owner=role, marker=marker, template=None)
    db.create_database(database=foreign, owner=role, marker="someone-else", template=None)
    try:
        prefix = f"deploytag.dev/namespace=sweep-{tag}"
        found = [(m.kind, m.name, m.marker) for m in db.list_marked(prefix=prefix)]
        assert found == [("database", name, marker), ("role", role, marker)]
        [database] = [m for m in db.list_marked(prefix=prefix) if m.kind == "database"]
        assert database.owner == role
        assert db.list_marked(prefix=f"deploytag.dev/namespace=sweep-{tag}_y") == []
        assert db.list_marked(prefix=f"deploytag.dev/namespace=sweep-{tag}_") != []  # "_" is literal
        assert db.list_marked(prefix=f"deploytag.dev/namespace=sweep-{tag}%x") == []  # "%" too
    finally:
        db.drop_database(database=name)
        db.drop_database(database=foreign)
        db.drop_role(role=role)
