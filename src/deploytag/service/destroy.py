"""`deploytag destroy`: remove everything deploy created and report what was verified gone."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig
from deploytag.core.errors import ClusterError, DeployTagError, PlanError
from deploytag.core.naming import NamePlan
from deploytag.ports.cluster import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from deploytag.ports.progress import ProgressListener
from deploytag.ports.providers import Providers
from deploytag.service.deploy import new_run_id
from deploytag.service.destroy_database import remove_database
from deploytag.service.destroy_preflight import LeftBehind, check_before_removing, left_behind
from deploytag.service.dns import destroy_records
from deploytag.service.reports import report_dict
from deploytag.service.resolve import target_for
from deploytag.steps.context import annotation
from deploytag.steps.lock import LeaseKeeper

log = logging.getLogger(__name__)

DESTROY_SCHEMA = "deploytag.destroy/v1"


@dataclass
class Removed:
    what: str  # "helm release", "namespace", "lease"
    name: str
    existed: bool
    verified_gone: bool


@dataclass
class DestroyReport:
    schema: str
    outcome: str  # removed, absent, failed, skipped
    branch: str
    namespace: str | None = None
    removed: list[Removed] = field(default_factory=list)
    # Parts skipped on request (--skip database/dns): what is still there, and where.
    left_behind: list[LeftBehind] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    exception: DeployTagError | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return report_dict(self)


def destroy(
    *,
    loaded: LoadedConfig,
    providers: Providers,
    ref: BranchRef,
    progress: ProgressListener,
    allow_permanent: bool = False,
    timeout_seconds: int = 300,
    skip: frozenset[str] = frozenset(),
) -> DestroyReport:
    """Remove the environment; every provider it needs is checked before the first removal.

    ``skip`` (parts of SKIPPABLE) are left alone on purpose and reported in ``left_behind``.
    """
    clock = providers.clock
    started = clock.monotonic()
    report = DestroyReport(schema=DESTROY_SCHEMA, outcome="skipped", branch=ref.branch)
    target = target_for(ref, loaded)
    if target.names is None:
        report.error = f"branch {ref.branch!r} matches no deploy rule; nothing to destroy"
        return report
    names = target.names
    report.namespace = names.namespace
    cluster = providers.cluster
    try:
        if names.kind == "permanent" and not allow_permanent:
            raise PlanError(
                f"{names.namespace} is the permanent {names.environment} environment",
                hint="pass --allow-permanent if you really mean to remove it",
            )
        existing = cluster.get_namespace(name=names.namespace)
        recorded_dns = existing.annotations.get(annotation("dns")) if existing is not None else None
        if existing is not None:
            if existing.labels.get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE:
                raise PlanError(
                    f"namespace {names.namespace} is not managed by DeployTag; refusing to delete it",
                    hint="remove it by hand if it is really yours",
                )
            recorded = existing.annotations.get(annotation("branch"))
            if recorded is not None and recorded != names.branch:
                raise PlanError(
                    f"namespace {names.namespace} belongs to branch {recorded!r}, not {names.branch!r}",
                    hint="pass the branch that namespace was deployed for",
                )
        check_before_removing(loaded=loaded, providers=providers, names=names, existing=existing, skip=skip)
        report.left_behind = left_behind(loaded=loaded, names=names, existing=existing, skip=skip)
        keeper = LeaseKeeper(
            leases=cluster,
            clock=clock,
            namespace=loaded.config.cluster.lock_namespace,
            name=names.lease_name,
            holder=new_run_id(clock.now()),
            duration_seconds=loaded.config.cluster.lock_seconds,
        )
        # Destroy always wins: a deploy still running for a deleted branch is pointless.
        keeper.acquire(wait_seconds=0, supersede=True, progress=progress)
        try:
            # DNS first: names stop pointing at a load balancer that is about to go.
            if "dns" not in skip:
                _remove_dns(report, loaded, providers, names, recorded_dns, progress)
            database_part = (
                (lambda: None)
                if "database" in skip
                else (lambda: remove_database(report, names, existing, providers, progress))
            )
            _remove(
                report,
                names.release,
                names.namespace,
                providers,
                progress,
                timeout_seconds,
                before_namespace=database_part,
            )
        finally:
            keeper.release()
        lease_left = cluster.get_lease(namespace=loaded.config.cluster.lock_namespace, name=names.lease_name)
        report.removed.append(Removed("lease", names.lease_name, True, lease_left is None))
        existed = any(r.existed for r in report.removed if r.what != "lease")
        report.outcome = "removed" if existed else "absent"
        not_gone = [f"{r.what} {r.name}" for r in report.removed if not r.verified_gone]
        if not_gone:
            raise ClusterError(
                f"still present after destroy: {', '.join(not_gone)}",
                hint="run destroy again; if it persists, check finalizers with kubectl get -o yaml",
            )
    except DeployTagError as e:
        report.outcome, report.error, report.exception = "failed", str(e), e
    report.seconds = round(clock.monotonic() - started, 3)
    return report


def _remove_dns(
    report: DestroyReport,
    loaded: LoadedConfig,
    providers: Providers,
    names: NamePlan,
    recorded: str | None,
    progress: ProgressListener,
) -> None:
    if providers.dns is None:
        return
    progress.step_started(step="dns")
    t0 = providers.clock.monotonic()
    changes = destroy_records(loaded=loaded, providers=providers, names=names, recorded=recorded)
    for c in changes:
        what = "dns record" if c.action != "not-ours" else "dns record (not ours, kept)"
        report.removed.append(Removed(what, c.name, c.action == "deleted", True))
    deleted = [c.name for c in changes if c.action == "deleted"]
    progress.step_finished(
        step="dns",
        outcome="changed" if deleted else "unchanged",
        seconds=providers.clock.monotonic() - t0,
        detail=f"deleted {', '.join(deleted)}" if deleted else "no records of ours",
    )


def _remove(
    report: DestroyReport,
    release: str,
    namespace: str,
    providers: Providers,
    progress: ProgressListener,
    timeout_seconds: int,
    before_namespace: Callable[[], None] = lambda: None,
) -> None:
    clock = providers.clock
    helm, kube, cluster = providers.helm, providers.kube_target, providers.cluster
    progress.step_started(step="release")
    t0 = clock.monotonic()
    # Read once under the lease: uninstalling the release leaves the namespace in place.
    ns_existed = cluster.get_namespace(name=namespace) is not None
    existed = ns_existed and helm.uninstall(
        release=release, namespace=namespace, timeout_seconds=timeout_seconds, target=kube
    )
    gone = not ns_existed or helm.status(release=release, namespace=namespace, target=kube) is None
    report.removed.append(Removed("helm release", release, existed, gone))
    progress.step_finished(
        step="release",
        outcome="changed" if existed else "unchanged",
        seconds=clock.monotonic() - t0,
        detail="uninstalled" if existed else "no release",
    )
    before_namespace()  # the database record lives on the namespace: drop the database first
    progress.step_started(step="namespace")
    t0 = clock.monotonic()
    gone = cluster.delete_namespace(name=namespace, wait=True, timeout_seconds=timeout_seconds)
    report.removed.append(Removed("namespace", namespace, ns_existed, gone))
    progress.step_finished(
        step="namespace",
        outcome="changed" if ns_existed else "unchanged",
        seconds=clock.monotonic() - t0,
        detail=("deleted" if gone else "still terminating") if ns_existed else "absent",
    )
