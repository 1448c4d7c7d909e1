"""The Database port: a branch's database and role on an existing server.

Names arrive already planned (``NamePlan.database`` / ``database_role``) but are
still treated as hostile: adapters quote every identifier. ``marker`` is the
ownership mark DeployTag leaves on what it creates (PostgreSQL COMMENT, a MySQL
marker table), so destroy never drops something it did not create.
"""

from __future__ import annotations

from typing import Protocol

import msgspec


class AdminConnection(msgspec.Struct, frozen=True):
    """Where the server is, parsed from the admin URL. The password never appears in repr."""

    engine: str  # "postgres" or "mysql"
    host: str
    port: int
    user: str
    password: str
    database: str = ""

    def __repr__(self) -> str:
        return f"AdminConnection({self.engine}://{self.user}@{self.host}:{self.port}/{self.database})"

    def describe(self) -> str:
        return f"{self.engine} {self.user}@{self.host}:{self.port}"


class RoleState(msgspec.Struct, frozen=True):
    name: str
    exists: bool
    marker: str | None = None  # ownership mark, None when absent


class DatabaseState(msgspec.Struct, frozen=True):
    name: str
    exists: bool
    owner: str | None = None
    marker: str | None = None


class MarkedObject(msgspec.Struct, frozen=True):
    """A database or role carrying an ownership marker (what the orphan sweep lists)."""

    kind: str  # "database" or "role"
    name: str
    marker: str
    owner: str | None = None  # a database's owner role (MySQL: the role its marker table names)


class Database(Protocol):
    engine: str
    host: str  # the server's host and port, the app's defaults (database.app_host overrides)
    port: int

    def describe(self) -> str:
        """Server and admin user, for messages; never the password."""
        ...

    def role_state(self, *, role: str) -> RoleState: ...

    def database_state(self, *, database: str) -> DatabaseState: ...

    def list_marked(self, *, prefix: str) -> list[MarkedObject]:
        """Every database and role whose marker starts with ``prefix``, sorted by kind and name.

        MySQL keeps no marker on users: a user is listed (with its database's marker) when the
        marker table of a listed database names it and it exists.
        """
        ...

    def create_role(self, *, role: str, password: str, marker: str) -> None:
        """Create a login role with this password and ownership marker."""
        ...

    def set_password(self, *, role: str, password: str) -> None: ...

    def create_database(self, *, database: str, owner: str, marker: str, template: str | None) -> None:
        """Create the database owned by (MySQL: all privileges to) ``owner``, marked as ours."""
        ...

    def drop_database(self, *, database: str) -> None:
        """End the database's sessions, then drop it; no error when absent."""
        ...

    def drop_role(self, *, role: str) -> None:
        """Drop the role (ending its sessions); no error when absent."""
        ...

    def close(self) -> None: ...
