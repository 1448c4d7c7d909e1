"""Destroy's database part: drop the branch database and role, only what is recorded as ours."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deploytag.core.errors import DatabaseError
from deploytag.core.naming import NamePlan
from deploytag.ports.cluster import NamespaceInfo
from deploytag.ports.progress import ProgressListener
from deploytag.ports.providers import Providers
from deploytag.steps.database import marker_for, read_record

if TYPE_CHECKING:
    from deploytag.service.destroy import DestroyReport


def remove_database(
    report: DestroyReport,
    names: NamePlan,
    namespace: NamespaceInfo | None,
    providers: Providers,
    progress: ProgressListener,
) -> None:
    """Needs the admin connection only when something is recorded; refuses what is not marked ours."""
    from deploytag.service.destroy import Removed

    record = read_record(namespace.annotations, names) if namespace is not None else {}
    created = set(record.get("created", []))
    if not created:
        return
    clock = providers.clock
    progress.step_started(step="database")
    t0 = clock.monotonic()
    db = providers.database
    marker = marker_for(names)
    dropped: list[str] = []
    if "database" in created:
        state = db.database_state(database=names.database)
        if state.exists and state.marker != marker:
            raise DatabaseError(
                f"database {names.database} on {db.describe()} is recorded for {names.namespace} but does not "
                "carry DeployTag's marker; refusing to drop it",
                hint="check who replaced it; drop it by hand if it is really this branch's",
            )
        if state.exists:
            db.drop_database(database=names.database)
            dropped.append(names.database)
        gone = not db.database_state(database=names.database).exists
        report.removed.append(Removed("database", names.database, state.exists, gone))
    if "role" in created:
        role = db.role_state(role=names.database_role)
        # MySQL keeps no marker on users: the namespace record is the proof there.
        if role.exists and role.marker not in (marker, None):
            raise DatabaseError(
                f"role {names.database_role} on {db.describe()} carries another owner's marker; refusing to drop it",
                hint="drop it by hand if it is really this branch's",
            )
        if role.exists:
            db.drop_role(role=names.database_role)
            dropped.append(names.database_role)
        gone = not db.role_state(role=names.database_role).exists
        report.removed.append(Removed("database role", names.database_role, role.exists, gone))
    progress.step_finished(
        step="database",
        outcome="changed" if dropped else "unchanged",
        seconds=clock.monotonic() - t0,
        detail=f"dropped {', '.join(dropped)}" if dropped else "already gone",
    )
