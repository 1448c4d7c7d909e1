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
from typing import Any
from urllib.parse import quote

from deploytag.core.config import LoadedConfig
from deploytag.core.errors import DatabaseError, MigrationError, scrub
from deploytag.core.naming import NamePlan
from deploytag.ports.database import Database
from deploytag.steps.context import RunContext, StepResult, annotation, dumps

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


def run_local(ctx: RunContext, argv: list[str], env: dict[str, str], what: str) -> str:
    """Run the seed/migrate command here with the connection variables; MigrationError on failure."""
    timeout = ctx.loaded.config.database.migrate_timeout_seconds
    hidden = list(env.values())
    result = ctx.providers.runner.run(
        argv=argv, cwd=ctx.loaded.root, env=env, timeout_seconds=timeout, check=False, secrets=hidden
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


class DatabaseStep:
    name = "database"

    def run(self, ctx: RunContext) -> StepResult:
        if not enabled(ctx.loaded, ctx.names):
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
                record["created"] = sorted({*record["created"], kind})

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
        created_role = False
        if not role.exists:
            password = new_password(cfg.password_length)
            db.create_role(role=names.database_role, password=password, marker=marker)
            created_role = True
            record["created"] = sorted({*record["created"], "role"})
            save()
            done.append(f"role {names.database_role} created")
        elif password is None or ctx.options.rotate_database_password:
            password = new_password(cfg.password_length)
            db.set_password(role=names.database_role, password=password)
            done.append("password rotated" if ctx.options.rotate_database_password else "password set")
        assert password is not None
        if not database.exists:
            try:
                db.create_database(
                    database=names.database, owner=names.database_role, marker=marker, template=cfg.template
                )
            except DatabaseError:
                self._undo(ctx, db, record, save, drop_role=created_role, drop_database=False)
                raise
            record["created"] = sorted({*record["created"], "database"})
            record["initialised"] = False
            save()
            ctx.database_created = True
            done.append(
                f"database {names.database} created" + (f" from {cfg.template}" if cfg.template else "")
            )
        ctx.extra_secret_data = connection_values(ctx, db, password)
        if not record.get("initialised", True):
            if cfg.seed:
                try:
                    run_local(ctx, cfg.seed, ctx.extra_secret_data, "seed")
                except MigrationError:
                    self._undo(
                        ctx, db, record, save, drop_role=created_role, drop_database=ctx.database_created
                    )
                    raise
                done.append("seeded")
            record["initialised"] = True
            save()
        ctx.record[RECORD] = dumps(record)
        if not done:
            return StepResult("unchanged", f"{names.database} owned by {names.database_role}")
        return StepResult("changed", ", ".join(done))

    @staticmethod
    def _undo(
        ctx: RunContext,
        db: Database,
        record: dict[str, Any],
        save: Any,
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
