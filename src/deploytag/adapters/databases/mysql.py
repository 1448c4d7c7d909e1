"""MySQL / MariaDB adapter (PyMySQL).

Identifiers are backtick-quoted with backticks doubled; user names and values
are string literals escaped by the driver. In GRANT, ``_`` and ``%`` in a
database name are wildcards, so they are escaped there: ``guestbook_a_b`` must
not also grant ``guestbook_aXb``. Ownership is a marker table inside the
database (neither server keeps comments on users portably).
"""

# Identifiers are composed with quote_ident/grant_ident and values with the driver's escape:
# ruff: noqa: S608

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from deploytag.adapters.common.sdkcheck import require
from deploytag.core.errors import DatabaseError, RetryableDatabaseError, scrub
from deploytag.ports.database import AdminConnection, DatabaseState, MarkedObject, RoleState

if TYPE_CHECKING:
    import pymysql

log = logging.getLogger(__name__)

MARKER_TABLE = "deploytag_owner"
DATABASE_MAX = 64
USER_MAX = 32
_ACCESS_DENIED = 1045
_UNKNOWN_DB = 1049
_NO_TABLE = 1146


def quote_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def grant_ident(name: str) -> str:
    return quote_ident(name.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%"))


def check_name(name: str, limit: int) -> str:
    if not name or "\0" in name or len(name) > limit or name != name.rstrip(" "):
        raise DatabaseError(
            f"{name[:40]!r} is not a valid MySQL name (1-{limit} characters, no NUL, no trailing space)",
            hint="this is a bug in the name plan; report it with the branch name",
        )
    return name


class MySqlDatabase:
    engine = "mysql"

    def __init__(self, *, connection: AdminConnection, connect_timeout: int = 5) -> None:
        self._admin = connection
        self.host, self.port = connection.host, connection.port
        self._timeout = connect_timeout
        self._conn: pymysql.connections.Connection[Any] | None = None

    @classmethod
    def from_connection(cls, *, connection: AdminConnection) -> MySqlDatabase:
        require("pymysql", needed_for="the mysql database engine")
        return cls(connection=connection)

    def describe(self) -> str:
        return self._admin.describe()

    def _connection(self) -> pymysql.connections.Connection[Any]:
        import pymysql

        if self._conn is None or not self._conn.open:
            a = self._admin
            try:
                self._conn = pymysql.connect(
                    host=a.host,
                    port=a.port,
                    user=a.user,
                    password=a.password,
                    autocommit=True,
                    connect_timeout=self._timeout,
                    charset="utf8mb4",
                )
            except pymysql.MySQLError as e:
                raise self._wrap(e, "cannot connect") from e
        return self._conn

    def _wrap(self, e: Exception, what: str) -> DatabaseError:
        args: tuple[Any, ...] = tuple(getattr(e, "args", ()))
        code = args[0] if args and isinstance(args[0], int) else None
        text = scrub(str(args[1]) if len(args) > 1 else str(e), [self._admin.password]).splitlines()
        message = f"{self.describe()}: {what}: {text[0] if text else type(e).__name__}"
        if code == _ACCESS_DENIED:
            return DatabaseError(
                message.replace(f"{what}:", "admin login refused:"),
                hint="check the admin URL's user and password (database.admin_url_env / admin_secret_id)",
            )
        if what == "cannot connect" or (code is not None and 2000 <= code < 3000):
            return RetryableDatabaseError(message, hint="check that the database server is up and reachable")
        return DatabaseError(message)

    def _run(self, what: str, query: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
        """With ``params``, ``%`` in ``query`` is a placeholder; queries that embed quoted
        names (which may contain ``%``) pass no params, so the driver leaves them alone."""
        import pymysql

        conn = self._connection()
        try:
            with conn.cursor() as cur:
                cur.execute(query, params)
                return list(cur.fetchall())
        except pymysql.MySQLError as e:
            if isinstance(e, pymysql.OperationalError) and e.args and e.args[0] >= 2000:
                self.close()
            raise self._wrap(e, what) from e

    def close(self) -> None:
        if self._conn is not None:
            if self._conn.open:
                self._conn.close()
            self._conn = None

    def _literal(self, value: str) -> str:
        return str(self._connection().escape(value))

    def _account(self, role: str) -> str:
        return f"{self._literal(check_name(role, USER_MAX))}@'%'"

    # ------------------------------------------------------------------ observe

    def role_state(self, *, role: str) -> RoleState:
        rows = self._run(
            "read user",
            "SELECT 1 FROM mysql.user WHERE User = %s AND Host = '%%'",
            (check_name(role, USER_MAX),),
        )
        return RoleState(name=role, exists=bool(rows))

    def database_state(self, *, database: str) -> DatabaseState:
        import pymysql

        name = check_name(database, DATABASE_MAX)
        rows = self._run(
            "read database", "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,)
        )
        if not rows:
            return DatabaseState(name=database, exists=False)
        try:
            marks = self._run(
                "read marker", f"SELECT marker, role FROM {quote_ident(name)}.{MARKER_TABLE} LIMIT 1"
            )
        except DatabaseError as e:
            cause = e.__cause__
            if isinstance(cause, pymysql.MySQLError) and cause.args and cause.args[0] == _NO_TABLE:
                return DatabaseState(name=database, exists=True)
            raise
        if not marks:
            return DatabaseState(name=database, exists=True)
        return DatabaseState(name=database, exists=True, owner=marks[0][1], marker=marks[0][0])

    def list_marked(self, *, prefix: str) -> list[MarkedObject]:
        schemas = self._run(
            "list marked databases",
            "SELECT TABLE_SCHEMA FROM information_schema.TABLES WHERE TABLE_NAME = %s",
            (MARKER_TABLE,),
        )
        found: list[MarkedObject] = []
        for (schema,) in schemas:
            state = self.database_state(database=str(schema))
            if state.marker is None or not state.marker.startswith(prefix):
                continue
            found.append(
                MarkedObject(kind="database", name=state.name, marker=state.marker, owner=state.owner)
            )
            if state.owner and self.role_state(role=state.owner).exists:
                found.append(MarkedObject(kind="role", name=state.owner, marker=state.marker))
        return sorted(set(found), key=lambda m: (m.kind, m.name))

    # ------------------------------------------------------------------ act

    def create_role(self, *, role: str, password: str, marker: str) -> None:
        self._run("create user", f"CREATE USER {self._account(role)} IDENTIFIED BY {self._literal(password)}")
        log.info("created user %s on %s", role, self.describe())

    def set_password(self, *, role: str, password: str) -> None:
        self._run("set password", f"ALTER USER {self._account(role)} IDENTIFIED BY {self._literal(password)}")

    def create_database(self, *, database: str, owner: str, marker: str, template: str | None) -> None:
        db = quote_ident(check_name(database, DATABASE_MAX))
        self._run("create database", f"CREATE DATABASE {db} CHARACTER SET utf8mb4")
        try:
            self._run(
                "mark database",
                f"CREATE TABLE {db}.{MARKER_TABLE} (marker VARCHAR(255) NOT NULL, role VARCHAR(80) NOT NULL)",
            )
            values = f"{self._literal(marker)}, {self._literal(owner)}"
            self._run("mark database", f"INSERT INTO {db}.{MARKER_TABLE} VALUES ({values})")
            self._run("grant", f"GRANT ALL PRIVILEGES ON {grant_ident(database)}.* TO {self._account(owner)}")
        except DatabaseError:
            self._run("drop unmarked database", f"DROP DATABASE IF EXISTS {db}")
            raise
        log.info("created database %s on %s", database, self.describe())

    def _kill(self, column: str, value: str) -> None:
        rows = self._run(
            "end sessions",
            f"SELECT ID FROM information_schema.PROCESSLIST WHERE {column} = %s AND ID <> CONNECTION_ID()",
            (value,),
        )
        for (session,) in rows:
            with contextlib.suppress(DatabaseError):  # already gone
                self._run("end session", f"KILL {int(session)}")

    def drop_database(self, *, database: str) -> None:
        name = check_name(database, DATABASE_MAX)
        self._kill("DB", name)
        self._run("drop database", f"DROP DATABASE IF EXISTS {quote_ident(name)}")

    def drop_role(self, *, role: str) -> None:
        self._kill("USER", check_name(role, USER_MAX))
        self._run("drop user", f"DROP USER IF EXISTS {self._account(role)}")
