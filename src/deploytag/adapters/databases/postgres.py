"""PostgreSQL adapter (psycopg 3): roles and databases composed with sql.Identifier/Literal.

Never string-formatted SQL: branch-derived names are hostile input. Ownership
markers are COMMENTs on the role and the database.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from deploytag.adapters.common.sdkcheck import require
from deploytag.core.errors import DatabaseError, RetryableDatabaseError, scrub
from deploytag.ports.database import AdminConnection, DatabaseState, MarkedObject, RoleState

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

IDENT_MAX_BYTES = 63
_AUTH_FAILED = ("password authentication failed", "no password supplied", "authentication failed", 'role "')


def check_identifier(name: str) -> str:
    if not name or "\0" in name or len(name.encode("utf-8")) > IDENT_MAX_BYTES:
        raise DatabaseError(
            f"{name[:40]!r}… is not a valid PostgreSQL identifier (1-63 bytes, no NUL)",
            hint="this is a bug in the name plan; report it with the branch name",
        )
    return name


class PostgresDatabase:
    engine = "postgres"

    def __init__(self, *, connection: AdminConnection, connect_timeout: int = 5) -> None:
        self._admin = connection
        self.host, self.port = connection.host, connection.port
        self._timeout = connect_timeout
        self._conn: psycopg.Connection[Any] | None = None

    @classmethod
    def from_connection(cls, *, connection: AdminConnection) -> PostgresDatabase:
        require("psycopg", needed_for="the postgres database engine")
        return cls(connection=connection)

    def describe(self) -> str:
        return self._admin.describe()

    # ------------------------------------------------------------------ plumbing

    def _connection(self) -> psycopg.Connection[Any]:
        import psycopg

        if self._conn is None or self._conn.closed:
            a = self._admin
            try:
                self._conn = psycopg.connect(
                    host=a.host,
                    port=a.port,
                    user=a.user,
                    password=a.password,
                    dbname=a.database or "postgres",
                    autocommit=True,
                    connect_timeout=self._timeout,
                    application_name="deploytag",
                )
            except psycopg.OperationalError as e:
                raise self._wrap(e, "cannot connect") from e
        return self._conn

    def _wrap(self, e: Exception, what: str) -> DatabaseError:
        text = scrub(
            str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__, [self._admin.password]
        )
        where = self.describe()
        if any(s in text for s in _AUTH_FAILED) and what == "cannot connect":
            return DatabaseError(
                f"{where}: admin login refused: {text}",
                hint="check the admin URL's user and password (database.admin_url_env / admin_secret_id)",
            )
        if what == "cannot connect":
            return RetryableDatabaseError(
                f"{where}: {what}: {text}", hint="check that the database server is up and reachable"
            )
        return DatabaseError(f"{where}: {what}: {text}")

    def _run(self, what: str, query: Any, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
        import psycopg

        conn = self._connection()
        try:
            cur = conn.execute(query, params)
            return list(cur.fetchall()) if cur.description else []
        except psycopg.OperationalError as e:
            self.close()
            raise RetryableDatabaseError(str(self._wrap(e, what))) from e
        except psycopg.Error as e:
            raise self._wrap(e, what) from e

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ------------------------------------------------------------------ observe

    def role_state(self, *, role: str) -> RoleState:
        rows = self._run(
            "read role",
            "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s",
            (check_identifier(role),),
        )
        return RoleState(name=role, exists=bool(rows), marker=rows[0][0] if rows else None)

    def database_state(self, *, database: str) -> DatabaseState:
        rows = self._run(
            "read database",
            "SELECT pg_get_userbyid(datdba), shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (check_identifier(database),),
        )
        if not rows:
            return DatabaseState(name=database, exists=False)
        return DatabaseState(name=database, exists=True, owner=rows[0][0], marker=rows[0][1])

    def list_marked(self, *, prefix: str) -> list[MarkedObject]:
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        roles = self._run(
            "list marked roles",
            "SELECT rolname, shobj_description(oid, 'pg_authid') FROM pg_roles "
            "WHERE shobj_description(oid, 'pg_authid') LIKE %s",
            (pattern,),
        )
        databases = self._run(
            "list marked databases",
            "SELECT datname, shobj_description(oid, 'pg_database'), pg_get_userbyid(datdba) FROM pg_database "
            "WHERE shobj_description(oid, 'pg_database') LIKE %s",
            (pattern,),
        )
        found = [MarkedObject(kind="role", name=r[0], marker=r[1]) for r in roles]
        found += [MarkedObject(kind="database", name=d[0], marker=d[1], owner=d[2]) for d in databases]
        return sorted(found, key=lambda m: (m.kind, m.name))

    # ------------------------------------------------------------------ act

    def create_role(self, *, role: str, password: str, marker: str) -> None:
        from psycopg import sql

        ident = sql.Identifier(check_identifier(role))
        conn = self._connection()
        # One transaction: a role never exists without its marker.
        with conn.transaction():
            self._run(
                "create role",
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    ident, sql.Literal(self._verifier(role, password))
                ),
            )
            self._run("mark role", sql.SQL("COMMENT ON ROLE {} IS {}").format(ident, sql.Literal(marker)))
        log.info("created role %s on %s", role, self.describe())

    def _verifier(self, role: str, password: str) -> str:
        """The SCRAM-SHA-256 verifier, computed here by libpq (as psql's \\password does).

        The server stores it as it is, so the plain password never travels in SQL text,
        where statement logging or pg_stat_activity would show it.
        """
        pgconn = self._connection().pgconn
        verifier = pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
        return verifier.decode("ascii")

    def set_password(self, *, role: str, password: str) -> None:
        from psycopg import sql

        query = sql.SQL("ALTER ROLE {} PASSWORD {}").format(
            sql.Identifier(check_identifier(role)), sql.Literal(self._verifier(role, password))
        )
        self._run("set password", query)

    def create_database(self, *, database: str, owner: str, marker: str, template: str | None) -> None:
        from psycopg import sql

        db, role = sql.Identifier(check_identifier(database)), sql.Identifier(check_identifier(owner))
        superuser = self._run("read admin", "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not (superuser and superuser[0][0]):
            # PostgreSQL 15: a CREATEROLE admin may give a database only to a role it is a member of.
            self._run("grant role to admin", sql.SQL("GRANT {} TO CURRENT_USER").format(role))
        create = sql.SQL("CREATE DATABASE {} OWNER {}").format(db, role)
        if template:
            create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(check_identifier(template)))
        self._run("create database", create)
        try:
            self._run(
                "mark database", sql.SQL("COMMENT ON DATABASE {} IS {}").format(db, sql.Literal(marker))
            )
            # Other branches' roles must not even connect.
            self._run("revoke public", sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
        except DatabaseError:
            self._run("drop unmarked database", sql.SQL("DROP DATABASE IF EXISTS {}").format(db))
            raise
        log.info("created database %s on %s", database, self.describe())

    def drop_database(self, *, database: str) -> None:
        from psycopg import sql

        name = check_identifier(database)
        self._run(
            "end sessions",
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        self._run(
            "drop database", sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )

    def drop_role(self, *, role: str) -> None:
        from psycopg import sql

        name = check_identifier(role)
        self._run(
            "end sessions",
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        self._run("drop role", sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
