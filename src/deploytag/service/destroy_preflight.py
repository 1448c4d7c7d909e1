"""What destroy checks before its first removal, and what an explicit ``--skip`` leaves behind.

A destroy that stops half-way (release gone, namespace and database left) is
worse than one that never started: the namespace holds the record of what the
database is, so once it is gone nothing finds the database again. So every
provider a removal will need is built and asked one read first: helm, the DNS
provider (its token and zone), the database server (admin URL and a query), and
through those the secret store that holds their credentials. A missing one is a
one-line error with how to supply it, or how to skip that part on purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deploytag.core.config import LoadedConfig
from deploytag.core.errors import DeployTagError
from deploytag.core.naming import NamePlan
from deploytag.ports.cluster import NamespaceInfo
from deploytag.ports.providers import Providers
from deploytag.service.dns import destroy_names
from deploytag.steps.context import annotation
from deploytag.steps.database import read_record

# The parts of an environment a person may choose to leave behind: they live outside the cluster, on
# servers that can be gone for good. The release and the namespace are never skipped.
SKIPPABLE = ("database", "dns")


@dataclass
class LeftBehind:
    what: str  # "database", "database role", "dns record"
    name: str
    where: str  # "db.example:5432", "zone example.com"
    reason: str  # "skipped"

    def line(self) -> str:
        return f"{self.what} {self.name} on {self.where} ({self.reason})"


def check_before_removing(
    *,
    loaded: LoadedConfig,
    providers: Providers,
    names: NamePlan,
    existing: NamespaceInfo | None,
    skip: frozenset[str],
) -> None:
    """Build every provider destroy will use and read once through each; raise what is missing."""
    if existing is not None:
        _checked("helm", "", lambda: providers.helm.version())
    if "dns" not in skip and loaded.config.dns.provider is not None:
        _checked(
            "the DNS provider", "--skip dns to leave its records behind", lambda: _read_dns(providers, names)
        )
    database = _recorded_database(names, existing)
    if "database" not in skip and database:
        where = database.get("server") or "its server"
        _checked(
            "the database server",
            f"--skip database to leave database {names.database} on {where} behind",
            lambda: providers.database.role_state(role=names.database_role),
        )


def left_behind(
    *,
    loaded: LoadedConfig,
    names: NamePlan,
    existing: NamespaceInfo | None,
    skip: frozenset[str],
) -> list[LeftBehind]:
    """What the skipped parts leave, and where, for the report: after destroy nothing records it."""
    out: list[LeftBehind] = []
    database = _recorded_database(names, existing)
    if "database" in skip and database:
        where = str(database.get("server") or "its server")
        created = database.get("created", [])
        if "database" in created:
            out.append(LeftBehind("database", names.database, where, "skipped"))
        if "role" in created:
            out.append(LeftBehind("database role", names.database_role, where, "skipped"))
    if "dns" in skip and loaded.config.dns.provider is not None:
        zone = loaded.config.dns.zone or loaded.config.dns.zone_id or "its zone"
        where = f"{loaded.config.dns.provider} zone {zone}"
        recorded = existing.annotations.get(annotation("dns")) if existing is not None else None
        out += [LeftBehind("dns record", fqdn, where, "skipped") for fqdn in destroy_names(names, recorded)]
    return out


def _recorded_database(names: NamePlan, existing: NamespaceInfo | None) -> dict[str, Any]:
    """The namespace's record of a database or role created for it; empty when there is none."""
    record = read_record(existing.annotations, names) if existing is not None else {}
    return record if record.get("created") else {}


def _read_dns(providers: Providers, names: NamePlan) -> None:
    provider = providers.dns  # built here: its token comes from the environment or the secret store
    if provider is None:
        return
    _ = provider.zone  # with only a zone id, a lookup that proves the token
    fqdns = [r.fqdn for r in names.dns_records if r.fqdn]
    if fqdns:
        provider.list_records(name=fqdns[0])


def _checked(what: str, skip_hint: str, check: Callable[[], object]) -> None:
    """Run ``check``; its error says that nothing was removed and, where there is one, how to skip."""
    try:
        check()
    except DeployTagError as e:
        e.message = f"nothing removed: destroy needs {what}: {e.message}"
        if skip_hint:
            e.hint = f"{e.hint}, or pass {skip_hint}" if e.hint else f"pass {skip_hint}"
        e.args = (e.message,)
        raise
