"""The database step against a real PostgreSQL and the in-memory cluster: kills, markers, strangers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from deploytag.adapters.memory.cluster import MemoryCluster
from deploytag.capabilities.context import DeployOptions, RunContext, annotation, dumps
from deploytag.capabilities.database import DatabaseStep, marker_for
from deploytag.core.branch import match_environment
from deploytag.core.errors import DatabaseError
from deploytag.core.naming import derive
from deploytag.ports.progress import SilentProgress
from deploytag.service.wiring import Invocation, build_providers, load

CONFIG = "app: shop\nbranches: {previews: ['feature/*']}\ndatabase: {engine: postgres}\n"


def context(tmp_path: Path, admin_url: str, branch: str, cluster: MemoryCluster) -> RunContext:
    (tmp_path / "deploytag.yaml").write_text(CONFIG)
    inv = Invocation(repo=tmp_path, environ={"DEPLOYTAG_DATABASE_ADMIN_URL": admin_url})
    loaded = load(inv)
    match = match_environment(branch, loaded.config.branches)
    assert match is not None
    names = derive(app="shop", branch=branch, commit="c0ffee", kind="preview", environment="preview")
    cluster.ensure_namespace(name=names.namespace, labels={}, annotations={})
    ns = cluster.get_namespace(name=names.namespace)
    assert ns is not None
    return RunContext(
        loaded=loaded,
        names=names,
        match=match,
        providers=build_providers(inv, loaded, cluster=cluster),
        options=DeployOptions(),
        progress=SilentProgress(),
        run_id="test",
        previous=dict(ns.annotations),
    )


def admin(server: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(server.admin_url, autocommit=True)


def cleanup(server: Any, ctx: RunContext) -> None:
    with admin(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{ctx.names.database}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{ctx.names.database_role}"')


def test_a_run_killed_after_creating_the_role_converges(tmp_path: Path, postgres_server: Any) -> None:
    cluster = MemoryCluster()
    ctx = context(tmp_path, postgres_server.admin_url, "feature/killed", cluster)
    try:
        # What the killed run left: the marked role, recorded on the namespace, no database, no Secret.
        ctx.providers.database.create_role(
            role=ctx.names.database_role, password="Pw-lost-123", marker=marker_for(ctx.names)
        )
        record = dumps({"created": ["role"], "database": ctx.names.database, "role": ctx.names.database_role})
        ctx.previous = {annotation("database"): record}
        result = DatabaseStep().run(ctx)
        assert "password set" in result.detail and "database" in result.detail
        with psycopg.connect(ctx.extra_secret_data["DATABASE_URL"]) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == (ctx.names.database,)
        saved = cluster.get_namespace(name=ctx.names.namespace)
        assert saved is not None and '"database","role"' in saved.annotations[annotation("database")]
    finally:
        cleanup(postgres_server, ctx)


def test_our_marker_is_enough_when_the_namespace_record_is_gone(tmp_path: Path, postgres_server: Any) -> None:
    cluster = MemoryCluster()
    ctx = context(tmp_path, postgres_server.admin_url, "feature/marker", cluster)
    try:
        assert DatabaseStep().run(ctx).outcome == "changed"
        fresh = context(tmp_path, postgres_server.admin_url, "feature/marker", MemoryCluster())
        result = DatabaseStep().run(fresh)
        assert result.outcome == "changed" and result.detail == "password set"
    finally:
        cleanup(postgres_server, ctx)


def test_a_strangers_role_is_refused_and_nothing_is_created(tmp_path: Path, postgres_server: Any) -> None:
    cluster = MemoryCluster()
    ctx = context(tmp_path, postgres_server.admin_url, "feature/stranger", cluster)
    with admin(postgres_server) as conn:
        conn.execute(f'CREATE ROLE "{ctx.names.database_role}"')
    try:
        with pytest.raises(DatabaseError, match="refusing to adopt"):
            DatabaseStep().run(ctx)
        assert not ctx.providers.database.database_state(database=ctx.names.database).exists
        ns = cluster.get_namespace(name=ctx.names.namespace)
        assert ns is not None and annotation("database") not in ns.annotations
    finally:
        cleanup(postgres_server, ctx)


def test_mysql_branch_database_from_ensure_to_destroy(tmp_path: Path, mariadb_server: Any) -> None:
    """The MySQL path end to end below the CLI: ensure, log in as the branch user, destroy's drop."""
    import pymysql

    from deploytag.capabilities.database import remove_database
    from deploytag.service.destroy import DestroyReport

    (tmp_path / "deploytag.yaml").write_text(CONFIG.replace("postgres", "mysql"))
    inv = Invocation(repo=tmp_path, environ={"DEPLOYTAG_DATABASE_ADMIN_URL": mariadb_server.admin_url})
    loaded = load(inv)
    branch = "feature/My-SQL_it's; a `trap` with a very long name indeed"
    match = match_environment(branch, loaded.config.branches)
    assert match is not None
    names = derive(
        app="shop", branch=branch, commit="c", kind="preview", environment="preview", database_engine="mysql"
    )
    cluster = MemoryCluster()
    cluster.ensure_namespace(name=names.namespace, labels={}, annotations={})
    providers = build_providers(inv, loaded, cluster=cluster)
    ctx = RunContext(
        loaded=loaded,
        names=names,
        match=match,
        providers=providers,
        options=DeployOptions(),
        progress=SilentProgress(),
        run_id="t",
    )
    assert DatabaseStep().run(ctx).outcome == "changed"
    v = ctx.extra_secret_data
    assert v["DATABASE_URL"].startswith("mysql://") and len(v["DATABASE_USER"]) <= 32
    conn = pymysql.connect(
        host=v["DATABASE_HOST"],
        port=int(v["DATABASE_PORT"]),
        user=v["DATABASE_USER"],
        password=v["DATABASE_PASSWORD"],
        database=v["DATABASE_NAME"],
    )
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id int)")
    conn.close()
    ns = cluster.get_namespace(name=names.namespace)
    report = DestroyReport(schema="t", outcome="", branch=branch)
    remove_database(report, names, ns, providers, SilentProgress())
    assert [(r.what, r.existed, r.verified_gone) for r in report.removed] == [
        ("database", True, True),
        ("database role", True, True),
    ]


def killed_between_create_and_mark(server: Any, ctx: RunContext, comment: str | None) -> None:
    """What a run killed after CREATE DATABASE left: its intent on the namespace, the role made
    and recorded, and the database without our marker (``comment`` stands for someone-else)."""
    ctx.providers.database.create_role(
        role=ctx.names.database_role, password="Pw-lost-123", marker=marker_for(ctx.names)
    )
    with admin(server) as conn:
        conn.execute(f'GRANT "{ctx.names.database_role}" TO CURRENT_USER')
        conn.execute(f'CREATE DATABASE "{ctx.names.database}" OWNER "{ctx.names.database_role}"')
        if comment is not None:
            conn.execute(f"COMMENT ON DATABASE \"{ctx.names.database}\" IS '{comment}'")
    record = {
        "created": ["role"],
        "creating": ["database"],
        "database": ctx.names.database,
        "role": ctx.names.database_role,
    }
    ctx.previous = {annotation("database"): dumps(record)}


def test_a_run_killed_between_create_database_and_its_marker_converges(
    tmp_path: Path, postgres_server: Any
) -> None:
    cluster = MemoryCluster()
    ctx = context(tmp_path, postgres_server.admin_url, "feature/half-made", cluster)
    try:
        killed_between_create_and_mark(postgres_server, ctx, comment=None)
        result = DatabaseStep().run(ctx)
        assert result.outcome == "changed" and "database" in result.detail
        state = ctx.providers.database.database_state(database=ctx.names.database)
        assert state.exists and state.marker == marker_for(ctx.names)
        saved = cluster.get_namespace(name=ctx.names.namespace)
        assert saved is not None
        record = saved.annotations[annotation("database")]
        assert '"created":["database","role"]' in record.replace(" ", "") and "creating" not in record
    finally:
        cleanup(postgres_server, ctx)


def test_intent_never_adopts_a_database_carrying_another_marker(tmp_path: Path, postgres_server: Any) -> None:
    cluster = MemoryCluster()
    ctx = context(tmp_path, postgres_server.admin_url, "feature/half-theirs", cluster)
    try:
        killed_between_create_and_mark(postgres_server, ctx, comment="someone-else")
        with pytest.raises(DatabaseError, match="refusing to adopt"):
            DatabaseStep().run(ctx)
        assert ctx.providers.database.database_state(database=ctx.names.database).marker == "someone-else"
    finally:
        cleanup(postgres_server, ctx)
