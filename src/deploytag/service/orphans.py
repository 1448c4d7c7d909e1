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

import logging
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from deploytag.capabilities.context import annotation, dumps
from deploytag.capabilities.dns import delete_records
from deploytag.capabilities.imagebuild import INPUTS_LABEL
from deploytag.capabilities.status import recorded_json
from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig
from deploytag.core.dnsowner import OWNER_PREFIX, Owner, parse_owner
from deploytag.core.errors import DeployTagError, PlanError
from deploytag.core.records import asdict
from deploytag.core.timestamps import parse_rfc3339, rfc3339
from deploytag.ports.cluster import (
    ENVIRONMENT_SELECTOR,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    LeaseInfo,
    NamespaceCondition,
    NamespaceInfo,
    ObjectRef,
)
from deploytag.ports.providers import Providers
from deploytag.service.resolve import target_for

log = logging.getLogger(__name__)

# Orphan kinds, in the order find_orphans looks and remove_orphans removes them.
DNS_RECORD = "dns-record"
DATABASE = "database"
ROLE = "role"
LEASE = "lease"
KANIKO_CREDENTIALS = "kaniko-secret"
IMAGE_TAG = "image-tag"
ALL_KINDS: frozenset[str] = frozenset({DNS_RECORD, DATABASE, ROLE, LEASE, KANIKO_CREDENTIALS, IMAGE_TAG})
_ORDER = (DNS_RECORD, DATABASE, ROLE, LEASE, KANIKO_CREDENTIALS, IMAGE_TAG)

LEASE_PREFIX = "deploytag-"  # NamePlan.lease_name: deploytag-<namespace>
MARKER_PREFIX = "deploytag.dev/namespace="  # capabilities.database.marker_for
KANIKO_SELECTOR = f"{ENVIRONMENT_SELECTOR},deploytag.dev/job=kaniko"
FORCE_FINALIZED = annotation("force-finalized")
_NO_COMMIT = "0" * 40  # names do not depend on the commit; derive() wants one

# An object left in a terminating namespace, and the finalizers that keep it there.
HoldingObject = ObjectRef
__all__ = [
    "ALL_KINDS",
    "ForceFinalizeResult",
    "HoldingObject",
    "NamespaceCondition",
    "Orphan",
    "OrphanRemoval",
    "StuckNamespace",
    "find_orphans",
    "force_finalize",
    "remove_orphans",
    "stuck_namespaces",
]


class Orphan(msgspec.Struct, frozen=True):
    """One resource carrying our mark that no live environment owns."""

    kind: str  # one of ALL_KINDS
    name: str  # record name, database/role name, Lease/Secret name, "repository:tag"
    where: str  # DNS zone/provider, database server, namespace, registry repository
    owner: str  # what our mark names: "app/branch", "namespace=...", the digest
    reason: str  # why no live environment owns it, one line
    # What removal re-checks so it deletes exactly what was found: the Lease's resourceVersion,
    # the image's digest, the database marker; "" where the mark itself is re-read.
    version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class OrphanRemoval(msgspec.Struct, frozen=True):
    """What ``remove_orphans`` did with one orphan."""

    orphan: Orphan
    removed: bool  # False with dry_run, or when it failed or changed since (``error``)
    dry_run: bool = False
    error: str = ""  # one line; never a secret

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class StuckNamespace(msgspec.Struct, frozen=True):
    namespace: str
    branch: str  # as recorded on the namespace
    app: str
    deleting_since: str  # metadata.deletionTimestamp (RFC 3339)
    conditions: tuple[NamespaceCondition, ...]  # the namespace controller's account
    holding: tuple[HoldingObject, ...]  # objects with finalizers still in it
    finalizers: tuple[str, ...]  # the namespace's own spec.finalizers

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ForceFinalizeResult(msgspec.Struct, frozen=True):
    namespace: str
    actor: str  # user or CI identity that asked
    reason: str
    cleared: tuple[HoldingObject, ...]  # objects whose finalizers were removed
    finalized: bool  # the namespace's own finalizers were cleared through /finalize
    gone: bool  # the namespace no longer exists when we looked last

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_orphans(
    *,
    loaded: LoadedConfig,
    providers: Providers,
    kinds: frozenset[str] = ALL_KINDS,
    min_age_seconds: float = 3600,
    skipped: list[str] | None = None,
) -> list[Orphan]:
    """Everything of the configured app that carries our mark and no live environment owns.

    Read-only. A kind whose provider is not configured (no dns:, no database:, no images:)
    is skipped. A configured one that cannot be read (no admin URL or token in this run, a
    server down) raises its error; with ``skipped`` given, it is recorded there instead as one
    line (``"database: no database admin URL ..."``) and the other kinds are still swept.
    ``min_age_seconds`` protects what may belong to a run still starting: kaniko Secrets,
    image tags and expired Leases younger than that are kept.
    """
    unknown = kinds - ALL_KINDS
    if unknown:
        raise PlanError(
            f"unknown orphan kind {sorted(unknown)[0]!r}", hint=f"use one of: {', '.join(sorted(ALL_KINDS))}"
        )
    scan = _Scan(loaded, providers, min_age_seconds)
    steps: list[tuple[str, frozenset[str], Callable[[], list[Orphan]]]] = [
        (DNS_RECORD, frozenset({DNS_RECORD}), scan.dns_records),
        ("database", frozenset({DATABASE, ROLE}), scan.databases),
        (LEASE, frozenset({LEASE}), scan.leases),
        (KANIKO_CREDENTIALS, frozenset({KANIKO_CREDENTIALS}), scan.kaniko_secrets),
        (IMAGE_TAG, frozenset({IMAGE_TAG}), scan.image_tags),
    ]
    found: list[Orphan] = []
    for label, covers, look in steps:
        if not kinds & covers:
            continue
        try:
            found += [o for o in look() if o.kind in kinds]
        except DeployTagError as e:
            if skipped is None:
                raise
            skipped.append(f"{label}: {e.message}")
    return sorted(found, key=lambda o: (_ORDER.index(o.kind), o.where, o.name))


def remove_orphans(
    *, loaded: LoadedConfig, providers: Providers, orphans: Sequence[Orphan], dry_run: bool = False
) -> list[OrphanRemoval]:
    """Remove what ``find_orphans`` returned (nothing with ``dry_run``), re-checking each mark first.

    One failure does not stop the rest: it is reported in that orphan's ``error``. Databases
    go before roles (a PostgreSQL role cannot be dropped while it owns a database).
    """
    results = []
    for orphan in sorted(orphans, key=lambda o: _ORDER.index(o.kind)):
        if dry_run:
            results.append(OrphanRemoval(orphan=orphan, removed=False, dry_run=True))
            continue
        try:
            problem = _remove(loaded, providers, orphan)
        except DeployTagError as e:
            problem = e.message
        if problem:
            log.warning("orphan %s %s not removed: %s", orphan.kind, orphan.name, problem)
        results.append(OrphanRemoval(orphan=orphan, removed=not problem, error=problem))
    return results


def stuck_namespaces(
    *, loaded: LoadedConfig, providers: Providers, older_than_seconds: float = 0
) -> list[StuckNamespace]:
    """DeployTag's namespaces (every app) terminating for longer than ``older_than_seconds``,
    with their status conditions and the objects (and finalizers) still in them."""
    del loaded  # every app's: a stuck namespace blocks a redeploy of its branch whatever the app
    cluster = providers.cluster
    now = providers.clock.now()
    stuck = []
    for ns in cluster.list_namespaces(label_selector=ENVIRONMENT_SELECTOR):
        since = parse_rfc3339(ns.deleting_since)
        if ns.phase != "Terminating" or (since is not None and now - since < older_than_seconds):
            continue
        holding = [r for r in cluster.list_namespace_contents(namespace=ns.name) if r.finalizers]
        stuck.append(
            StuckNamespace(
                namespace=ns.name,
                branch=ns.annotations.get(annotation("branch"), ""),
                app=ns.labels.get("deploytag.dev/app", ""),
                deleting_since=ns.deleting_since,
                conditions=tuple(ns.conditions),
                holding=tuple(holding),
                finalizers=tuple(ns.finalizers),
            )
        )
    return stuck


def force_finalize(
    *,
    loaded: LoadedConfig,
    providers: Providers,
    namespace: str,
    actor: str,
    reason: str,
    wait_seconds: float = 30,
) -> ForceFinalizeResult:
    """Clear what holds a terminating DeployTag namespace, then its own finalizers.

    Refuses (PlanError) a namespace that is not ours or not terminating; one already gone
    is reported ``gone``. First records an annotation (``deploytag.dev/force-finalized``:
    actor, reason, time) on the namespace and a Warning Event about it, then removes the
    finalizers of every object still in it and waits up to ``wait_seconds`` for the namespace
    controller to finish; only a namespace still there once it is empty has its own
    finalizers cleared through the finalize subresource (never while objects remain, which
    would leave them behind in etcd).
    """
    del loaded
    if not reason.strip():
        raise PlanError("force-finalize needs a reason", hint="say why, e.g. --reason 'webhook gone'")
    cluster, clock = providers.cluster, providers.clock
    ns = cluster.get_namespace(name=namespace)
    if ns is None:
        return ForceFinalizeResult(namespace, actor, reason, cleared=(), finalized=False, gone=True)
    _refuse_unless_ours_and_terminating(ns)
    record = {"by": actor, "reason": reason, "at": rfc3339(clock.now())}
    cluster.patch_namespace_annotations(name=namespace, annotations={FORCE_FINALIZED: dumps(record)})
    cluster.record_event(
        namespace="",
        kind="Namespace",
        name=namespace,
        reason="ForceFinalized",
        message=f"deploytag: {actor} cleared the finalizers holding namespace {namespace}: {reason}",
        type="Warning",
    )
    cleared = []
    for ref in cluster.list_namespace_contents(namespace=namespace):
        if ref.finalizers:
            log.warning(
                "removing finalizers %s of %s/%s in %s", ref.finalizers, ref.kind, ref.name, namespace
            )
            cluster.remove_finalizers(ref=ref)
            cleared.append(ref)
    deadline = clock.monotonic() + wait_seconds
    finalized = False
    while True:
        current = cluster.get_namespace(name=namespace)
        if current is None:
            break
        empty = not cluster.list_namespace_contents(namespace=namespace)
        if empty and (current.finalizers or clock.monotonic() >= deadline):
            # Empty, yet held by its own finalizers (a controller that never finishes).
            cluster.finalize_namespace(name=namespace)
            finalized = True
            clock.sleep(0.5)
            break
        if clock.monotonic() >= deadline:
            break
        clock.sleep(1.0)
    gone = cluster.get_namespace(name=namespace) is None
    return ForceFinalizeResult(namespace, actor, reason, tuple(cleared), finalized=finalized, gone=gone)


# ------------------------------------------------------------------------------------------ finding


class _Scan:
    """One sweep's view: the live environments, read once, and the checks per kind."""

    def __init__(self, loaded: LoadedConfig, providers: Providers, min_age_seconds: float) -> None:
        self.loaded, self.providers, self.min_age = loaded, providers, min_age_seconds
        self.app = loaded.config.app
        self.now = providers.clock.now()
        cluster = providers.cluster
        everything = cluster.list_namespaces(label_selector=ENVIRONMENT_SELECTOR)
        self.live: list[NamespaceInfo] = [ns for ns in everything if ns.phase != "Terminating"]
        self.live_names = {ns.name for ns in self.live}
        lock_namespace = loaded.config.cluster.lock_namespace
        # A run holding its Lease may be creating the environment right now: the database and
        # image exist before the namespace does.
        self.running = {
            lease.name.removeprefix(LEASE_PREFIX)
            for lease in cluster.list_leases(namespace=lock_namespace, label_selector=ENVIRONMENT_SELECTOR)
            if _held(lease, self.now)
        }

    def _old(self, stamp: str) -> bool:
        seen = parse_rfc3339(stamp)
        return seen is None or self.now - seen >= self.min_age

    def _namespace_of(self, branch: str) -> str | None:
        try:
            names = target_for(BranchRef(branch=branch, commit=_NO_COMMIT, source="flag"), self.loaded).names
        except DeployTagError:
            return None
        return names.namespace if names is not None else None

    def dns_records(self) -> list[Orphan]:
        provider = self.providers.dns
        if provider is None:
            return []
        live = {
            (ns.labels.get("deploytag.dev/app", ""), ns.annotations.get(annotation("branch"), ""))
            for ns in self.live
        }
        found = []
        for txt in provider.list_zone_records(type="TXT"):
            if not txt.name.startswith(OWNER_PREFIX):
                continue
            owners = [o for o in (parse_owner(v) for v in txt.values) if o is not None]
            if len(owners) != 1 or owners[0].app != self.app:
                continue  # not ours, or not this app's: never touched
            owner = owners[0]
            if (owner.app, owner.branch) in live or self._namespace_of(owner.branch) in self.running:
                continue
            found.append(
                Orphan(
                    kind=DNS_RECORD,
                    name=txt.name.removeprefix(OWNER_PREFIX),
                    where=provider.describe(),
                    owner=f"{owner.app}/{owner.branch}",
                    reason=f"branch {owner.branch!r} has no live environment",
                )
            )
        return found

    def databases(self) -> list[Orphan]:
        if self.loaded.config.database.engine is None:
            return []
        db = self.providers.database
        # This app's namespaces only: another app's branch databases on a shared server are its own.
        prefixes = {f"{MARKER_PREFIX}{self.app}-"}
        prefixes |= {f"{MARKER_PREFIX}{ns}" for ns in self._permanent_namespaces()}
        found = []
        seen: set[tuple[str, str]] = set()
        for prefix in sorted(prefixes):
            for marked in db.list_marked(prefix=prefix):
                namespace = marked.marker.removeprefix(MARKER_PREFIX)
                if (
                    (marked.kind, marked.name) in seen
                    or namespace in self.live_names
                    or namespace in self.running
                ):
                    continue
                seen.add((marked.kind, marked.name))
                found.append(
                    Orphan(
                        kind=DATABASE if marked.kind == "database" else ROLE,
                        name=marked.name,
                        where=db.describe(),
                        owner=f"namespace={namespace}",
                        reason=f"namespace {namespace} is not a live environment",
                        version=marked.marker,
                    )
                )
        return found

    def _permanent_namespaces(self) -> set[str]:
        cfg = self.loaded.config
        return {p.namespace or f"{cfg.app}-{p.environment}" for p in cfg.branches.permanent.values()}

    def leases(self) -> list[Orphan]:
        cluster = self.providers.cluster
        lock_namespace = self.loaded.config.cluster.lock_namespace
        found = []
        for lease in cluster.list_leases(namespace=lock_namespace, label_selector=ENVIRONMENT_SELECTOR):
            if not lease.name.startswith(LEASE_PREFIX) or _held(lease, self.now):
                continue
            namespace = lease.name.removeprefix(LEASE_PREFIX)
            expired_for = self.now - (lease.renewed_at + lease.duration_seconds)
            if namespace in self.live_names or expired_for < self.min_age:
                continue
            found.append(
                Orphan(
                    kind=LEASE,
                    name=lease.name,
                    where=lock_namespace,
                    owner=f"namespace={namespace}",
                    reason=f"namespace {namespace} is not a live environment and nobody holds the lease",
                    version=lease.version,
                )
            )
        return found

    def kaniko_secrets(self) -> list[Orphan]:
        build = self.loaded.config.build
        if build.builder != "kaniko":
            return []
        namespace = build.kaniko.namespace or self.loaded.config.cluster.lock_namespace
        # The credentials matter only while their build runs; a build never outlives its timeout.
        threshold = max(self.min_age, float(build.timeout_seconds))
        found = []
        for secret in self.providers.cluster.list_secrets(
            namespace=namespace, label_selector=KANIKO_SELECTOR
        ):
            created = parse_rfc3339(secret.created_at)
            if created is None or self.now - created < threshold:
                continue
            found.append(
                Orphan(
                    kind=KANIKO_CREDENTIALS,
                    name=secret.name,
                    where=namespace,
                    owner="deploytag.dev/job=kaniko",
                    reason=f"created {secret.created_at}, longer ago than any build may run",
                )
            )
        return found

    def image_tags(self) -> list[Orphan]:
        repositories = sorted({image.repository for image in self.loaded.config.images.values()})
        if not repositories or self.providers.registry_factory is None:
            return []
        registry = self.providers.registry
        configured = {name: image.repository for name, image in self.loaded.config.images.items()}
        live_tags: set[tuple[str, str]] = set()
        live_digests: set[str] = set()
        for ns in self.live:  # every app's: an image may be shared through its digest
            mine = ns.labels.get("deploytag.dev/app") == self.app
            for name, image in recorded_json(ns.annotations, "images").items():
                if not isinstance(image, dict):
                    continue
                if image.get("digest"):
                    live_digests.add(str(image["digest"]))
                if mine and name in configured:
                    live_tags |= {(configured[name], str(t)) for t in image.get("tags") or []}
        found = []
        for repository in repositories:
            infos = {
                tag: registry.image_info(repository=repository, tag=tag)
                for tag in registry.tags(repository=repository)
            }
            # A digest with any tag that must stay (a live environment's, "latest", one without our
            # label) stays whole: deleting a manifest deletes every tag pointing at it.
            keep = {
                info.digest
                for tag, info in infos.items()
                if info is not None
                and (
                    tag == "latest"
                    or INPUTS_LABEL not in info.labels
                    or (repository, tag) in live_tags
                    or info.digest in live_digests
                    or not self._old(info.created)
                )
            }
            for tag, info in sorted(infos.items()):
                if info is None or info.digest in keep:
                    continue
                found.append(
                    Orphan(
                        kind=IMAGE_TAG,
                        name=f"{repository}:{tag}",
                        where=repository,
                        owner=info.digest,
                        reason="no live environment records this tag or uses its digest",
                        version=info.digest,
                    )
                )
        return found


def _held(lease: LeaseInfo, now: float) -> bool:
    return bool(lease.holder) and lease.renewed_at + lease.duration_seconds > now


# ------------------------------------------------------------------------------------------ removing


def _remove(loaded: LoadedConfig, providers: Providers, orphan: Orphan) -> str:
    """Remove one orphan after re-reading its mark; the reason it was not removed, or ""."""
    if orphan.kind == DNS_RECORD:
        provider = providers.dns
        if provider is None:
            return "no DNS provider is configured"
        app, _, branch = orphan.owner.partition("/")
        [change] = delete_records(provider, names=[orphan.name], owner=Owner(app=app, branch=branch))
        return (
            ""
            if change.action in ("deleted", "absent")
            else f"ownership changed since listed ({change.action})"
        )
    if orphan.kind in (DATABASE, ROLE):
        db = providers.database
        if orphan.kind == DATABASE:
            state = db.database_state(database=orphan.name)
            if state.exists and state.marker != orphan.version:
                return "its marker changed since listed"
            db.drop_database(database=orphan.name)
            return "" if not db.database_state(database=orphan.name).exists else "still there after the drop"
        role = db.role_state(role=orphan.name)
        # MySQL keeps no marker on users: the marker table that named it was the proof.
        if role.exists and role.marker not in (orphan.version, None):
            return "its marker changed since listed"
        db.drop_role(role=orphan.name)
        return "" if not db.role_state(role=orphan.name).exists else "still there after the drop"
    if orphan.kind == LEASE:
        deleted = providers.cluster.delete_lease(
            namespace=orphan.where, name=orphan.name, version=orphan.version
        )
        gone = providers.cluster.get_lease(namespace=orphan.where, name=orphan.name) is None
        return "" if deleted or gone else "it changed since listed (a run took it)"
    if orphan.kind == KANIKO_CREDENTIALS:
        providers.cluster.delete_secret(namespace=orphan.where, name=orphan.name)
        return ""
    if orphan.kind == IMAGE_TAG:
        registry = providers.registry
        tag = orphan.name.rpartition(":")[2]
        info = registry.image_info(repository=orphan.where, tag=tag)
        if info is None:
            return ""
        if info.digest != orphan.version:
            return "the tag points at another image since listed"
        registry.delete_manifest(repository=orphan.where, digest=orphan.version)
        return ""
    raise PlanError(f"unknown orphan kind {orphan.kind!r}", hint="pass orphans as find_orphans returned them")


def _refuse_unless_ours_and_terminating(ns: NamespaceInfo) -> None:
    if ns.labels.get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE:
        raise PlanError(
            f"namespace {ns.name} is not managed by DeployTag; refusing to clear its finalizers",
            hint="force-finalize acts on DeployTag's environments only",
        )
    if ns.phase != "Terminating":
        raise PlanError(
            f"namespace {ns.name} is not being deleted; nothing holds it",
            hint=f"destroy it first (deploytag destroy --branch {ns.annotations.get(annotation('branch'), 'BRANCH')})",
        )
