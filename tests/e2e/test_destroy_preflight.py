"""destroy checks every provider it needs before its first removal; --skip leaves a part behind on purpose.

Through the installed CLI with the real helm, the real PostgreSQL server and the example's DNS
provider. "Nothing removed" is read back through the CLI (status, dns --delete --dry-run) and
from the database server itself.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import psycopg
import pytest
from e2ehelpers import ROOT, App, Result
from psycopg import sql

from servers.common import free_port
from servers.postgres import PostgresServer


@pytest.fixture
def helm_bin() -> Path:
    """One helm is enough: these tests are about what destroy checks, not helm versions."""
    found = [p for p in (ROOT / ".tools/helm4/helm", ROOT / ".tools/helm3/helm") if p.is_file()]
    if not found:
        pytest.skip("helm is not installed: run tools/setup.sh")
    return found[0]


def deployed(app: App) -> tuple[str, dict[str, Any]]:
    branch = f"feature/pre-{secrets.token_hex(3)}"  # unique: the cluster and the server may be shared
    result = app.deploy(branch)
    assert result.returncode == 0, result.stderr
    status = app.run("status", "--branch", branch, "-o", "json")
    assert status.returncode == 0, status.stderr
    return branch, status.json()


def database_exists(server: PostgresServer, name: str) -> bool:
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def drop_left_behind(server: PostgresServer, database: str, role: str) -> None:
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(database)))
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def assert_nothing_removed(app: App, branch: str, before: dict[str, Any], server: PostgresServer) -> None:
    status = app.run("status", "--branch", branch, "-o", "json")
    assert status.returncode == 0, status.stderr  # the namespace and its records are still there
    env = status.json()["environment"]
    assert (env["namespace"], env["revision"]) == (
        before["environment"]["namespace"],
        before["environment"]["revision"],
    )
    assert database_exists(server, before["database"]["database"])
    records = app.run("dns", "--branch", branch, "--delete", "--dry-run", "-o", "json")
    assert records.returncode == 0, records.stderr
    actions = {r["name"]: r["action"] for r in records.json()["records"]}
    assert set(before["dns"]["names"]) <= {n for n, a in actions.items() if a == "would-delete"}


def assert_one_line_error(result: Result, *needles: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert lines, result.stderr
    assert lines[-1].startswith("deploytag: error: nothing removed: destroy needs"), result.stderr
    for needle in needles:
        assert needle in lines[-1], lines[-1]


def test_destroy_without_the_admin_url_removes_nothing_and_says_how_to_go_on(
    app: App, postgres_server: PostgresServer
) -> None:
    branch, before = deployed(app)
    result = app.run("destroy", "--branch", branch, env={"DEPLOYTAG_DATABASE_ADMIN_URL": ""})
    assert result.returncode == 3, result.stderr
    assert_one_line_error(result, "DEPLOYTAG_DATABASE_ADMIN_URL", "--skip database")
    assert f"127.0.0.1:{postgres_server.port}" in result.stderr  # where the database is, from the record
    assert postgres_server.password not in result.stderr + result.stdout
    assert_nothing_removed(app, branch, before, postgres_server)
    assert app.run("destroy", "--branch", branch).returncode == 0


def test_destroy_with_the_database_server_gone_removes_nothing(
    app: App, postgres_server: PostgresServer
) -> None:
    branch, before = deployed(app)
    dead = f"postgresql://postgres:pw-not-shown@127.0.0.1:{free_port()}/postgres"
    result = app.run("destroy", "--branch", branch, env={"DEPLOYTAG_DATABASE_ADMIN_URL": dead})
    assert result.returncode == 15, result.stderr
    assert_one_line_error(result, "database server", "--skip database")
    assert "pw-not-shown" not in result.stderr
    assert_nothing_removed(app, branch, before, postgres_server)
    assert app.run("destroy", "--branch", branch).returncode == 0


def test_destroy_without_the_dns_token_or_helm_removes_nothing(
    app: App, postgres_server: PostgresServer
) -> None:
    branch, before = deployed(app)
    no_token = app.run("destroy", "--branch", branch, env={"CLOUDFLARE_API_TOKEN": ""})
    assert no_token.returncode == 3, no_token.stderr
    assert_one_line_error(no_token, "DNS provider", "CLOUDFLARE_API_TOKEN", "--skip dns")
    no_helm = app.run("destroy", "--branch", branch, env={"DEPLOYTAG_TOOLS__HELM": "/nonexistent/helm"})
    assert no_helm.returncode == 5, no_helm.stderr
    assert_one_line_error(no_helm, "helm", "install Helm")
    assert_nothing_removed(app, branch, before, postgres_server)
    assert app.run("destroy", "--branch", branch).returncode == 0


def test_skip_database_finishes_the_rest_and_reports_what_is_left_and_where(
    app: App, postgres_server: PostgresServer
) -> None:
    branch, before = deployed(app)
    database, role = before["database"]["database"], before["database"]["role"]
    where = f"127.0.0.1:{postgres_server.port}"
    try:
        result = app.run(
            "destroy", "--branch", branch, "--skip", "database", env={"DEPLOYTAG_DATABASE_ADMIN_URL": ""}
        )
        assert result.returncode == 0, result.stderr
        assert f"left behind: database {database} on {where} (skipped)" in result.stdout
        assert f"left behind: database role {role} on {where} (skipped)" in result.stdout
        assert app.run("status", "--branch", branch).returncode == 13  # the namespace is gone
        assert database_exists(postgres_server, database)  # as asked
        gone = app.run("destroy", "--branch", branch, "-o", "json")
        assert gone.returncode == 0 and gone.json()["outcome"] == "absent"
        assert gone.json()["left_behind"] == []
    finally:
        drop_left_behind(postgres_server, database, role)


def test_skip_database_and_dns_in_json(app: App, postgres_server: PostgresServer) -> None:
    branch, before = deployed(app)
    database, role = before["database"]["database"], before["database"]["role"]
    try:
        result = app.run(
            "destroy",
            "--branch",
            branch,
            "--skip",
            "database",
            "--skip",
            "dns",
            "-o",
            "json",
            env={"DEPLOYTAG_DATABASE_ADMIN_URL": "", "CLOUDFLARE_API_TOKEN": ""},
        )
        assert result.returncode == 0, result.stderr
        report = result.json()
        assert report["schema"] == "deploytag.destroy/v1" and report["outcome"] == "removed"
        assert {r["what"] for r in report["removed"]} == {"helm release", "namespace", "lease"}
        left = {(x["what"], x["name"]): x for x in report["left_behind"]}
        assert left[("database", database)] == {
            "what": "database",
            "name": database,
            "where": f"127.0.0.1:{postgres_server.port}",
            "reason": "skipped",
        }
        assert ("database role", role) in left
        dns_left = {name for what, name in left if what == "dns record"}
        assert set(before["dns"]["names"]) <= dns_left
        assert all("zone" in x["where"] for x in report["left_behind"] if x["what"] == "dns record")
        # The records are really still there (the provider works again with the token back).
        records = app.run("dns", "--branch", branch, "--delete", "-o", "json")
        assert records.returncode == 0, records.stderr
        assert {r["name"] for r in records.json()["records"] if r["action"] == "deleted"} >= set(
            before["dns"]["names"]
        )
    finally:
        drop_left_behind(postgres_server, database, role)


def test_skip_takes_only_the_skippable_parts(app: App) -> None:
    result = app.run("destroy", "--branch", "feature/whatever", "--skip", "namespace")
    assert result.returncode == 2
    assert "'database'" in result.stderr and "'dns'" in result.stderr
