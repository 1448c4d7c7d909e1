"""The branch database through the CLI: real PostgreSQL, real migrations (a Job on the real node), real cluster."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from e2ehelpers import COMMIT, ROOT, App

from servers.postgres import PostgresServer


@pytest.fixture
def helm_bin() -> Path:
    """One helm is enough here: these tests are about the database, not helm versions."""
    found = [p for p in (ROOT / ".tools/helm4/helm", ROOT / ".tools/helm3/helm") if p.is_file()]
    if not found:
        pytest.skip("helm is not installed: run tools/setup.sh")
    return found[0]


def admin(server: PostgresServer) -> psycopg.Connection[Any]:
    return psycopg.connect(server.admin_url, autocommit=True)


def exists(server: PostgresServer, kind: str, name: str) -> bool:
    query = {
        "database": "SELECT 1 FROM pg_database WHERE datname = %s",
        "role": "SELECT 1 FROM pg_roles WHERE rolname = %s",
    }[kind]
    with admin(server) as conn:
        return conn.execute(query, (name,)).fetchone() is not None


def secret_values(app: App, namespace: str) -> dict[str, str]:
    data = app.kube.store.get("secrets", namespace, f"{app.name}-env")["data"]
    return {k: base64.b64decode(v).decode() for k, v in data.items()}


def steps(report: dict[str, Any]) -> dict[str, str]:
    return {s["name"]: s["outcome"] for s in report["steps"]}


def test_database_is_created_migrated_kept_rotated_and_dropped(
    app: App, postgres_server: PostgresServer
) -> None:
    plan = app.run("plan", "--branch", "feature/db", "--commit", COMMIT, "--no-render", "-o", "json")
    assert plan.returncode == 0, plan.stderr
    planned = plan.json()["database"]
    assert (planned["database_exists"], planned["role_exists"]) == ("no", "no")

    first = app.deploy("feature/db")
    assert first.returncode == 0, first.stderr
    report = first.json()
    ns = report["namespace"]
    assert steps(report)["database"] == "changed" and steps(report)["migrate"] == "changed"
    values = secret_values(app, ns)
    assert values["DATABASE_NAME"] == planned["name"] and values["DATABASE_USER"] == planned["role"]
    # The app's URL really logs in as the branch role, and the migration ran in its database.
    with psycopg.connect(values["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone() == (1,)
        assert conn.execute("SELECT current_user").fetchone() == (planned["role"],)
    assert values["DATABASE_PASSWORD"] not in first.stdout + first.stderr

    again = app.deploy("feature/db")
    assert again.returncode == 0, again.stderr
    assert steps(again.json())["database"] == "unchanged" and steps(again.json())["migrate"] == "unchanged"
    assert secret_values(app, ns)["DATABASE_PASSWORD"] == values["DATABASE_PASSWORD"]

    rotated = app.deploy("feature/db", "--rotate-database-password")
    assert rotated.returncode == 0, rotated.stderr
    new = secret_values(app, ns)["DATABASE_PASSWORD"]
    assert new != values["DATABASE_PASSWORD"]
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(values["DATABASE_URL"]).close()
    psycopg.connect(secret_values(app, ns)["DATABASE_URL"]).close()

    shown = app.run("plan", "--branch", "feature/db", "--commit", COMMIT, "--no-render").stdout
    assert "database exists: yes (ours), role exists: yes (ours)" in shown
    listed = app.run("list", "-o", "json").json()["environments"]
    assert [e["database"] for e in listed if e["namespace"] == ns] == [f"postgres:{planned['name']}"]
    # The migration ran in the cluster: a Job with the app's image, completed by the kubelet.
    (job,) = app.kube.store.list("jobs", ns)
    assert job["status"].get("succeeded") == 1

    gone = app.run("destroy", "--branch", "feature/db", "-o", "json")
    assert gone.returncode == 0, gone.stderr
    removed = {r["what"]: r for r in gone.json()["removed"]}
    assert removed["database"]["existed"] and removed["database"]["verified_gone"]
    assert removed["database role"]["verified_gone"]
    assert not exists(postgres_server, "database", planned["name"])
    assert not exists(postgres_server, "role", planned["role"])


HOSTILE = [
    "feature/it's-a-trap",
    'feature/"quoted"; DROP DATABASE postgres; --',
    "feature/back\\slash",
    "feature/ümlaut-日本語",
    "feature/" + "x" * 292,
]


# Two through the whole CLI; every hostile name is also created and dropped at the adapter level
# (tests/database/test_hostile_names.py), which is much cheaper.
@pytest.mark.parametrize("branch", [HOSTILE[1], HOSTILE[4]], ids=["semicolon", "300-chars"])
def test_hostile_branch_names_get_a_database_and_lose_it(
    app: App, postgres_server: PostgresServer, branch: str
) -> None:
    result = app.deploy(branch)
    assert result.returncode == 0, result.stderr
    values = secret_values(app, result.json()["namespace"])
    assert exists(postgres_server, "database", values["DATABASE_NAME"])
    gone = app.run("destroy", "--branch", branch, "-o", "json")
    assert gone.returncode == 0, gone.stderr
    assert not exists(postgres_server, "database", values["DATABASE_NAME"])
    assert not exists(postgres_server, "role", values["DATABASE_USER"])
    assert exists(postgres_server, "database", "postgres")


def test_failed_migration_stops_the_deploy_before_the_release(
    app: App, postgres_server: PostgresServer
) -> None:
    first = app.deploy("feature/mig")
    assert first.returncode == 0, first.stderr
    ns, release = first.json()["namespace"], first.json()["release"]
    # Half-way: the statement before the error would create a table; the file runs in one transaction.
    (app.repo / "migrations" / "002_broken.sql").write_text(
        "CREATE TABLE half_done (id int);\nSELECT no_such_function();\n"
    )
    failed = app.run("deploy", "--branch", "feature/mig", "--commit", "1" * 40, "--skip-tests", "-o", "json")
    assert failed.returncode == 17, failed.stderr
    report = failed.json()
    assert report["outcome"] == "failed"
    assert steps(report)["migrate"] == "failed" and "release" not in steps(report)
    assert "migration" in failed.stderr and "no_such_function" in failed.stderr
    assert failed.stderr.count("deploytag: error:") == 1
    # The previous release still serves, at its old revision and commit.
    namespace = app.kube.store.get("namespaces", None, ns)["metadata"]["annotations"]
    assert namespace["deploytag.dev/revision"] == "1" and namespace["deploytag.dev/commit"] == COMMIT
    assert app.kube.store.get("deployments", ns, release) is not None
    url = secret_values(app, ns)["DATABASE_URL"]
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('half_done')").fetchone() == (None,)
    app.run("destroy", "--branch", "feature/mig")


def test_a_database_that_is_not_ours_is_refused(app: App, postgres_server: PostgresServer) -> None:
    plan = app.run(
        "plan", "--branch", "feature/taken", "--commit", COMMIT, "--no-render", "-o", "json"
    ).json()
    name, role = plan["database"]["name"], plan["database"]["role"]
    with admin(postgres_server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        result = app.deploy("feature/taken")
        assert result.returncode == 15, result.stderr
        assert "refusing to adopt" in result.stderr
        assert not exists(postgres_server, "role", role)  # checked before anything was created
        destroyed = app.run("destroy", "--branch", "feature/taken")
        assert destroyed.returncode == 0, destroyed.stderr
        assert exists(postgres_server, "database", name)  # not ours: destroy leaves it alone
    finally:
        with admin(postgres_server) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_database_creation_failing_leaves_no_role(app: App, postgres_server: PostgresServer) -> None:
    result = app.deploy("feature/tpl", env={"DEPLOYTAG_DATABASE__TEMPLATE": "no_such_template"})
    assert result.returncode == 15, result.stderr
    assert "no_such_template" in result.stderr
    assert not exists(postgres_server, "role", f"{app.name}_feature_tpl")
    roles = [r for r in _roles(postgres_server) if r.startswith(f"{app.name}_feature_tpl")]
    assert roles == []
    assert app.deploy("feature/tpl").returncode == 0  # converges once fixed
    assert app.run("destroy", "--branch", "feature/tpl").returncode == 0


def _roles(server: PostgresServer) -> list[str]:
    with admin(server) as conn:
        return [r[0] for r in conn.execute("SELECT rolname FROM pg_roles")]


@pytest.mark.parametrize("case", ["down", "bad-password", "unset"])
def test_no_usable_admin_connection_stops_before_any_side_effect(
    app: App, postgres_server: PostgresServer, case: str
) -> None:
    url = {
        "down": "postgresql://postgres:Sekrit-Pw-1@127.0.0.1:1/postgres",
        "bad-password": postgres_server.url_with_password("Sekrit-Pw-1"),
        "unset": "",
    }[case]
    app.database_admin_url = url
    env = {"DEPLOYTAG_DATABASE_ADMIN_URL": url} if url else {}
    result = app.deploy("feature/nodb", env=env)
    assert result.returncode == (3 if case == "unset" else 15), result.stderr
    lines = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(lines) == 1 and "Sekrit-Pw-1" not in result.stderr + result.stdout
    assert app.kube.store.get("namespaces", None, result.json()["namespace"]) is None


def test_local_migrations_run_here_with_the_connection_variables(
    app: App, postgres_server: PostgresServer
) -> None:
    local = {"DEPLOYTAG_DATABASE__MIGRATE_MODE": "local"}
    result = app.deploy("feature/local", env=local)
    assert result.returncode == 0, result.stderr
    report = result.json()
    migrate = next(s for s in report["steps"] if s["name"] == "migrate")
    assert migrate["outcome"] == "changed" and "1 applied" in migrate["detail"]
    assert app.kube.store.list("jobs", report["namespace"]) == []  # nothing ran in the cluster
    with psycopg.connect(secret_values(app, report["namespace"])["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT version FROM schema_migrations").fetchall() == [("001_create_entries",)]
    assert app.run("destroy", "--branch", "feature/local").returncode == 0


SEED_OK = (
    "import os, psycopg; c = psycopg.connect(os.environ['DATABASE_URL'], autocommit=True); "
    "c.execute('CREATE TABLE IF NOT EXISTS seeded (n int)'); c.execute('INSERT INTO seeded VALUES (1)')"
)


def test_seed_runs_once_and_a_failed_seed_leaves_nothing(app: App, postgres_server: PostgresServer) -> None:
    failing = {
        "DEPLOYTAG_DATABASE__SEED": '["python", "-c", "import sys; print(\'seed broke\'); sys.exit(2)"]'
    }
    failed = app.deploy("feature/seed", env=failing)
    assert failed.returncode == 17, failed.stderr
    assert "seed broke" in failed.stderr
    assert [r for r in _roles(postgres_server) if r.startswith(f"{app.name}_feature_seed")] == []

    seeding = {"DEPLOYTAG_DATABASE__SEED": json.dumps(["python", "-c", SEED_OK])}
    for _ in range(2):  # the second deploy must not seed again
        result = app.deploy("feature/seed", "--force", env=seeding)
        assert result.returncode == 0, result.stderr
    url = secret_values(app, result.json()["namespace"])["DATABASE_URL"]
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM seeded").fetchone() == (1,)
    assert app.run("destroy", "--branch", "feature/seed").returncode == 0


MYSQL_MIGRATE = (
    "import os, pymysql; c = pymysql.connect(host=os.environ['DATABASE_HOST'], "
    "port=int(os.environ['DATABASE_PORT']), user=os.environ['DATABASE_USER'], "
    "password=os.environ['DATABASE_PASSWORD'], database=os.environ['DATABASE_NAME'], autocommit=True); "
    "c.cursor().execute('CREATE TABLE IF NOT EXISTS entries (id int)'); print('migrated')"
)


def test_mysql_database_through_the_cli(app: App, mariadb_server: Any) -> None:
    """The same lifecycle on MariaDB: created, migrated (locally), kept, dropped.

    The test MariaDB listens on loopback only, which the node's pods cannot reach: the app runs
    with no replicas here (its readiness would wait for the database), and connects from here.
    """
    import pymysql

    env = {
        "DEPLOYTAG_DATABASE__APP_HOST": "",
        "DEPLOYTAG_DATABASE__ENGINE": "mysql",
        "DEPLOYTAG_DATABASE_ADMIN_URL": mariadb_server.admin_url,
        "DEPLOYTAG_DATABASE__MIGRATE_MODE": "local",
        "DEPLOYTAG_DATABASE__MIGRATE": json.dumps(["python", "-c", MYSQL_MIGRATE]),
    }

    def admin_rows(query: str, *args: str) -> list[Any]:
        conn = pymysql.connect(
            host="127.0.0.1", port=mariadb_server.port, user="root", password=mariadb_server.password
        )
        try:
            with conn.cursor() as cur:
                cur.execute(query, args)
                return list(cur.fetchall())
        finally:
            conn.close()

    no_pods = ("--set", "replicaCount=0")
    result = app.deploy("feature/my-sql", *no_pods, env=env)
    assert result.returncode == 0, result.stderr
    report = result.json()
    values = secret_values(app, report["namespace"])
    name, user = values["DATABASE_NAME"], values["DATABASE_USER"]
    assert len(name) <= 32 and len(user) <= 32
    tables = admin_rows("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", name)
    assert sorted(tables) == [("deploytag_owner",), ("entries",)]  # our ownership marker, the migration's
    again = app.deploy("feature/my-sql", *no_pods, env=env)
    assert again.returncode == 0, again.stderr
    assert steps(again.json())["database"] == "unchanged"
    assert secret_values(app, report["namespace"])["DATABASE_PASSWORD"] == values["DATABASE_PASSWORD"]

    gone = app.run("destroy", "--branch", "feature/my-sql", env=env)
    assert gone.returncode == 0, gone.stderr
    assert admin_rows("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", name) == []
    assert admin_rows("SELECT 1 FROM mysql.user WHERE user = %s", user) == []
