"""Step: the branch's database and role on an existing server, created once, password kept.

Ownership is recorded twice: on the namespace (annotation ``deploytag.dev/database``,
patched right after each creation so a killed run is safe) and on the server
(the adapter's marker). A database or role that exists but carries neither is
someone else's and is refused, never adopted. Creation leaves no half state: a
role created by this run is dropped again when the database cannot be created.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import string
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import quote

from deploytag.capabilities.base import Capability, LeftBehind, PlanRequest, Removed, StepResult, Teardown
from deploytag.capabilities.context import RunContext, annotation, dumps
from deploytag.capabilities.outputs import DatabaseConnection
from deploytag.capabilities.preflight import checked
from deploytag.capabilities.status import recorded_json
from deploytag.core.config import LoadedConfig
from deploytag.core.errors import ConfigError, DatabaseError, DeployTagError, MigrationError, scrub
from deploytag.core.extras import MissingPackageError
from deploytag.core.naming import NamePlan
from deploytag.ports.cluster import NamespaceInfo
from deploytag.ports.database import Database, DatabaseState, RoleState
from deploytag.ports.progress import ProgressListener
from deploytag.ports.providers import Providers

log = logging.getLogger(__name__)

RECORD = annotation("database")
SECRET_VERSION_KEY = "deploytag/database"  # noqa: S105 - a key name, not a password
_ALPHABET = string.ascii_letters + string.digits
_SCHEMES = {"postgres": "postgresql", "mysql": "mysql"}


def enabled(loaded: LoadedConfig, names: NamePlan) -> bool:
    cfg = loaded.config.database
    return cfg.engine is not None and names.environment in cfg.environments


def marker_for(names: NamePlan) -> str:
    return f"deploytag.dev/namespace={names.namespace}"


def read_record(annotations: Any, names: NamePlan) -> dict[str, Any]:
    """The recorded ownership, only if it names this plan's database and role."""
    try:
        record = json.loads(annotations.get(RECORD) or "{}")
    except ValueError:
        return {}
    if not isinstance(record, dict):
        return {}
    if record.get("database") != names.database or record.get("role") != names.database_role:
        return {}
    return record


def owned(kind: str, record: dict[str, Any], marker: str | None, names: NamePlan) -> bool:
    return kind in record.get("created", []) or marker == marker_for(names)


def _intend(record: dict[str, Any], kind: str, save: Callable[[], None]) -> None:
    """Record on the namespace that this run is about to create ``kind``, before it does.

    Creating and marking are two statements (PostgreSQL cannot run CREATE DATABASE in a
    transaction), so a run killed between them leaves an object without our marker. The
    intent on our own namespace is what lets the next run recognise it (``_half_made``)."""
    record["creating"] = sorted({*record.get("creating", []), kind})
    save()


def _made(record: dict[str, Any], kind: str) -> None:
    record["created"] = sorted({*record["created"], kind})
    record["creating"] = [k for k in record.get("creating", []) if k != kind]
    if not record["creating"]:
        del record["creating"]


def _half_made(record: dict[str, Any], kind: str, exists: bool, marker: str | None) -> bool:
    """Left by a run killed between creating ``kind`` and recording it: our intent is on the
    namespace, the object carries no marker at all (never another's) and was never recorded
    created. It is new and empty, so it is dropped and made again."""
    if not exists or marker is not None or kind in record.get("created", []):
        return False
    if kind not in record.get("creating", []):
        return False
    log.warning(
        "a killed run left %s half-created (no ownership marker); dropping it to create it again", kind
    )
    return True


def new_password(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def secret_digest(values: dict[str, str]) -> str:
    """Changes whenever a connection value does (rolls the pods); reveals nothing."""
    return hashlib.sha256(dumps(values).encode()).hexdigest()[:16]


def connection_values(ctx: RunContext, db: Database, password: str) -> dict[str, str]:
    cfg, names = ctx.loaded.config.database, ctx.names
    host = cfg.app_host or db.host
    port = str(cfg.app_port or db.port)
    v = cfg.variables
    url = f"{_SCHEMES[db.engine]}://{names.database_role}:{quote(password, safe='')}@{host}:{port}/{names.database}"
    return {
        v.url: url,
        v.host: host,
        v.port: port,
        v.name: names.database,
        v.user: names.database_role,
        v.password: password,
    }


def run_local(ctx: RunContext, argv: list[str], env: Mapping[str, str], what: str) -> str:
    """Run the seed/migrate command here with the connection variables; MigrationError on failure."""
    timeout = ctx.loaded.config.database.migrate_timeout_seconds
    hidden = list(env.values())
    result = ctx.providers.runner.run(
        argv=argv, cwd=ctx.loaded.root, env=dict(env), timeout_seconds=timeout, check=False, secrets=hidden
    )
    output = scrub((result.stdout + result.stderr).strip(), hidden)
    tail = "\n".join(output.splitlines()[-20:])
    if result.returncode != 0:
        raise MigrationError(
            f"{what} `{' '.join(argv)}` exited with status {result.returncode}; the release was not "
            f"changed. Last output:\n{tail or '(none)'}",
            hint=f"fix the {what} and deploy again",
        )
    return tail.splitlines()[-1] if tail else ""


def recorded_database(names: NamePlan, existing: NamespaceInfo | None) -> dict[str, Any]:
    """The namespace's record of a database or role created for it; empty when there is none."""
    record = read_record(existing.annotations, names) if existing is not None else {}
    return record if record.get("created") else {}


class DatabaseStep(Capability):
    """The branch database and role: created once, password kept, dropped by destroy (ours only)."""

    name = "database"
    provides = (DatabaseConnection,)

    def applies(self, *, loaded: LoadedConfig, names: NamePlan) -> bool:
        return enabled(loaded, names)

    def plan(self, *, request: PlanRequest) -> Mapping[str, Any]:
        names, engine = request.names, request.loaded.config.database.engine
        if not engine:
            return {}
        database = {"engine": engine, "name": names.database, "role": names.database_role}
        if not enabled(request.loaded, names):
            database["exists"] = f"not used: {names.environment} is not in database.environments"
        else:
            database.update(_database_exists(names, request.providers))
        return {"database": database}

    def preflight(self, *, ctx: RunContext) -> None:
        if enabled(ctx.loaded, ctx.names):
            # Admin URL present and parseable, the server answers: fail before the namespace exists.
            ctx.providers.database.role_state(role=ctx.names.database_role)

    def status(self, *, annotations: Mapping[str, str]) -> Mapping[str, Any]:
        return {"database": recorded_json(annotations, "database")}

    def check_removal(self, *, teardown: Teardown) -> None:
        names = teardown.names
        database = recorded_database(names, teardown.existing)
        if "database" not in teardown.skip and database:
            where = database.get("server") or "its server"
            checked(
                "the database server",
                f"--skip database to leave database {names.database} on {where} behind",
                lambda: teardown.providers.database.role_state(role=names.database_role),
            )

    def left_behind(self, *, teardown: Teardown) -> list[LeftBehind]:
        names, out = teardown.names, []
        database = recorded_database(names, teardown.existing)
        if "database" in teardown.skip and database:
            where = str(database.get("server") or "its server")
            created = database.get("created", [])
            if "database" in created:
                out.append(LeftBehind("database", names.database, where, "skipped"))
            if "role" in created:
                out.append(LeftBehind("database role", names.database_role, where, "skipped"))
        return out

    def removes(self, *, teardown: Teardown) -> bool:
        # Needs the admin connection only when something is recorded.
        return "database" not in teardown.skip and bool(recorded_database(teardown.names, teardown.existing))

    def remove(self, *, teardown: Teardown) -> StepResult:
        return drop_recorded(teardown.names, teardown.existing, teardown.providers, teardown.removed)

    def ensure(self, *, ctx: RunContext) -> StepResult:
        if not enabled(ctx.loaded, ctx.names):
            ctx.outputs.put(DatabaseConnection())
            return StepResult("skipped", "no database for this environment")
        names, cfg = ctx.names, ctx.loaded.config.database
        db = ctx.providers.database
        record = read_record(ctx.previous, names) or {
            "engine": db.engine,
            "database": names.database,
            "role": names.database_role,
            "server": f"{db.host}:{db.port}",
            "created": [],
        }
        marker = marker_for(names)
        role = db.role_state(role=names.database_role)
        database = db.database_state(database=names.database)
        if _half_made(record, "database", database.exists, database.marker):
            db.drop_database(database=names.database)
            database = DatabaseState(name=names.database, exists=False)
        if _half_made(record, "role", role.exists, role.marker):
            db.drop_role(role=names.database_role)
            role = RoleState(name=names.database_role, exists=False)
        for kind, name, state_exists, state_marker in (
            ("role", names.database_role, role.exists, role.marker),
            ("database", names.database, database.exists, database.marker),
        ):
            if state_exists and not owned(kind, record, state_marker, names):
                raise DatabaseError(
                    f"{kind} {name} already exists on {db.describe()} and was not created by DeployTag for "
                    f"{names.namespace}; refusing to adopt it",
                    hint=f"drop or rename that {kind} on the server, or point the admin URL at another server",
                )
            if state_exists:  # ours by its marker: make sure destroy knows it too
                _made(record, kind)

        def save() -> None:
            ctx.providers.cluster.patch_namespace_annotations(
                name=names.namespace, annotations={RECORD: dumps(record)}
            )

        password_key = cfg.variables.password
        kept = ctx.providers.cluster.read_secret_values(
            namespace=names.namespace, name=names.secret_name, keys=[password_key]
        )
        password = (kept or {}).get(password_key)
        done: list[str] = []
        created_role = created_database = False
        if not role.exists:
            password = new_password(cfg.password_length)
            _intend(record, "role", save)
            db.create_role(role=names.database_role, password=password, marker=marker)
            created_role = True
            _made(record, "role")
            save()
            done.append(f"role {names.database_role} created")
        elif password is None or ctx.options.rotate_database_password:
            password = new_password(cfg.password_length)
            db.set_password(role=names.database_role, password=password)
            done.append("password rotated" if ctx.options.rotate_database_password else "password set")
        assert password is not None
        if not database.exists:
            _intend(record, "database", save)
            try:
                db.create_database(
                    database=names.database, owner=names.database_role, marker=marker, template=cfg.template
                )
            except DatabaseError:
                self._undo(ctx, db, record, save, drop_role=created_role, drop_database=False)
                raise
            _made(record, "database")
            record["initialised"] = False
            save()
            created_database = True
            done.append(
                f"database {names.database} created" + (f" from {cfg.template}" if cfg.template else "")
            )
        connection = connection_values(ctx, db, password)
        if not record.get("initialised", True):
            if cfg.seed:
                try:
                    run_local(ctx, cfg.seed, connection, "seed")
                except MigrationError:
                    self._undo(ctx, db, record, save, drop_role=created_role, drop_database=created_database)
                    raise
                done.append("seeded")
            record["initialised"] = True
            save()
        ctx.outputs.put(DatabaseConnection(connection, created=created_database))
        recorded = {RECORD: dumps(record)}
        if not done:
            return StepResult("unchanged", f"{names.database} owned by {names.database_role}", recorded)
        return StepResult("changed", ", ".join(done), recorded)

    @staticmethod
    def _undo(
        ctx: RunContext,
        db: Database,
        record: dict[str, Any],
        save: Callable[[], None],
        *,
        drop_role: bool,
        drop_database: bool,
    ) -> None:
        """Remove what this run created so a failure leaves nothing half made."""
        names = ctx.names
        try:
            if drop_database:
                db.drop_database(database=names.database)
                record["created"] = [c for c in record["created"] if c != "database"]
                record.pop("initialised", None)
            if drop_role:
                db.drop_role(role=names.database_role)
                record["created"] = [c for c in record["created"] if c != "role"]
            save()
        except DatabaseError as e:
            log.warning("could not undo the partial database setup for %s: %s", names.namespace, e)


def _database_exists(names: NamePlan, providers: Providers) -> dict[str, str]:
    """Whether the database and role exist; plan never fails for want of an admin connection."""
    try:
        db = providers.database
        database = db.database_state(database=names.database)
        role = db.role_state(role=names.database_role)
    except MissingPackageError as e:
        return {"exists": f"unknown: {e}"}
    except ConfigError:
        return {"exists": "unknown: no admin connection"}
    except DeployTagError as e:
        return {"exists": f"unknown: {e.message}"}

    def word(exists: bool, marker: str | None) -> str:
        return ("yes (ours)" if marker == marker_for(names) else "yes") if exists else "no"

    return {
        "database_exists": word(database.exists, database.marker),
        "role_exists": word(role.exists, role.marker),
        "server": db.describe(),
    }


def drop_recorded(
    names: NamePlan, existing: NamespaceInfo | None, providers: Providers, removed: list[Removed]
) -> StepResult:
    """Drop the database and role recorded as ours; refuse what does not carry our marker."""
    created = set(recorded_database(names, existing).get("created", []))
    db = providers.database
    marker = marker_for(names)
    dropped: list[str] = []
    if "database" in created:
        state = db.database_state(database=names.database)
        if state.exists and state.marker != marker:
            raise DatabaseError(
                f"database {names.database} on {db.describe()} is recorded for {names.namespace} but does "
                "not carry DeployTag's marker; refusing to drop it",
                hint="check who replaced it; drop it by hand if it is really this branch's",
            )
        if state.exists:
            db.drop_database(database=names.database)
            dropped.append(names.database)
        gone = not db.database_state(database=names.database).exists
        removed.append(Removed("database", names.database, state.exists, gone))
    if "role" in created:
        role = db.role_state(role=names.database_role)
        # MySQL keeps no marker on users: the namespace record is the proof there.
        if role.exists and role.marker not in (marker, None):
            raise DatabaseError(
                f"role {names.database_role} on {db.describe()} carries another owner's marker; refusing "
                "to drop it",
                hint="drop it by hand if it is really this branch's",
            )
        if role.exists:
            db.drop_role(role=names.database_role)
            dropped.append(names.database_role)
        gone = not db.role_state(role=names.database_role).exists
        removed.append(Removed("database role", names.database_role, role.exists, gone))
    return StepResult(
        "changed" if dropped else "unchanged",
        f"dropped {', '.join(dropped)}" if dropped else "already gone",
    )


class _Report(Protocol):
    removed: list[Removed]


def remove_database(
    report: _Report,
    names: NamePlan,
    namespace: NamespaceInfo | None,
    providers: Providers,
    progress: ProgressListener,
) -> None:
    """Destroy's database part on its own (destroy's runner calls DatabaseStep.remove): for tests and tools."""
    if recorded_database(names, namespace):
        drop_recorded(names, namespace, providers, report.removed)
