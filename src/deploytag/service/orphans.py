"""The orphan sweep: what DeployTag created that no live environment owns any more.

A live environment is a namespace DeployTag recorded (``service.environments``) that
is not terminating. Everything else a run creates carries our own mark, and only a
mark proves ownership; nothing without one is ever reported, let alone removed:

- DNS record sets: the ownership TXT (``core.dnsowner``) names app and branch;
- branch databases and roles: the marker (PostgreSQL COMMENT, MySQL marker table)
  names the namespace they were created for;
- Leases: DeployTag's lock Leases (``deploytag-<namespace>`` in ``cluster.lock_namespace``,
  labelled managed-by) whose namespace is gone and which nobody holds;
- kaniko credential Secrets (labelled ``deploytag.dev/job=kaniko``) older than a build may run;
- image tags in the app's repositories whose image carries DeployTag's inputs label,
  that no live environment records, and whose digest no live environment uses.

A resource whose environment is being created right now (its lock Lease held) is
never an orphan: the database exists before its namespace does.

``stuck_namespaces`` reports environments stuck in Terminating with what holds them;
``force_finalize`` clears those finalizers, recording who did it and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from deploytag.core.config import LoadedConfig
from deploytag.ports.providers import Providers

# Orphan kinds, in the order find_orphans looks and remove_orphans removes them.
DNS_RECORD = "dns-record"
DATABASE = "database"
ROLE = "role"
LEASE = "lease"
KANIKO_SECRET = "kaniko-secret"
IMAGE_TAG = "image-tag"
ALL_KINDS: frozenset[str] = frozenset({DNS_RECORD, DATABASE, ROLE, LEASE, KANIKO_SECRET, IMAGE_TAG})


@dataclass(frozen=True)
class Orphan:
    """One resource carrying our mark that no live environment owns."""

    kind: str  # one of ALL_KINDS
    name: str  # record "name TYPE", database/role name, Lease/Secret name, "repository:tag"
    where: str  # DNS zone/provider, database server, namespace, registry repository
    owner: str  # what our mark names: "app/branch", "namespace=...", the digest
    reason: str  # why no live environment owns it, one line

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OrphanRemoval:
    """What ``remove_orphans`` did with one orphan."""

    orphan: Orphan
    removed: bool  # False with dry_run, or when it failed (``error``)
    dry_run: bool = False
    error: str = ""  # one line; never a secret

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class NamespaceCondition:
    type: (
        str  # NamespaceContentRemaining, NamespaceFinalizersRemaining, NamespaceDeletionDiscoveryFailure ...
    )
    status: str
    reason: str
    message: str


@dataclass(frozen=True)
class HoldingObject:
    """An object left in a terminating namespace, and the finalizers that keep it there."""

    api_version: str  # "v1", "apps/v1"
    kind: str
    name: str
    finalizers: tuple[str, ...]


@dataclass(frozen=True)
class StuckNamespace:
    namespace: str
    branch: str  # as recorded on the namespace
    app: str
    deleting_since: str  # metadata.deletionTimestamp (RFC 3339)
    conditions: tuple[NamespaceCondition, ...]
    holding: tuple[HoldingObject, ...]  # objects with finalizers still in it
    finalizers: tuple[str, ...]  # the namespace's own spec.finalizers

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ForceFinalizeResult:
    namespace: str
    actor: str  # user or CI identity that asked
    reason: str
    cleared: tuple[HoldingObject, ...]  # objects whose finalizers were removed
    finalized: bool  # the namespace's spec.finalizers were cleared through /finalize
    gone: bool  # the namespace no longer exists when we looked last

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_orphans(
    *,
    loaded: LoadedConfig,
    providers: Providers,
    kinds: frozenset[str] = ALL_KINDS,
    min_age_seconds: float = 3600,
) -> list[Orphan]:
    """Everything of the configured app that carries our mark and no live environment owns.

    Read-only. A kind whose provider is not configured (no dns:, no database:, no images:)
    is skipped. ``min_age_seconds`` protects resources that may belong to a run still
    starting (kaniko Secrets, image tags, unheld Leases younger than that are kept).
    """
    raise NotImplementedError


def remove_orphans(
    *, loaded: LoadedConfig, providers: Providers, orphans: Sequence[Orphan], dry_run: bool = False
) -> list[OrphanRemoval]:
    """Remove what ``find_orphans`` returned (nothing with ``dry_run``), re-checking each mark first.

    One failure does not stop the rest: it is reported in that orphan's ``error``.
    """
    raise NotImplementedError


def stuck_namespaces(
    *, loaded: LoadedConfig, providers: Providers, older_than_seconds: float = 0
) -> list[StuckNamespace]:
    """DeployTag's namespaces (every app) terminating for longer than ``older_than_seconds``,
    with their status conditions and the objects (and finalizers) still in them."""
    raise NotImplementedError


def force_finalize(
    *, loaded: LoadedConfig, providers: Providers, namespace: str, actor: str, reason: str
) -> ForceFinalizeResult:
    """Clear what holds a terminating DeployTag namespace, then its own finalizers.

    Refuses (PlanError) a namespace that is not ours or not terminating. First records
    an annotation (``deploytag.dev/force-finalized``: actor, reason, time) and a
    Kubernetes Event on the namespace, then removes the finalizers of every object still
    in it, then the namespace's spec.finalizers through the finalize subresource.
    """
    raise NotImplementedError
