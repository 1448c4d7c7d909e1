"""`deploytag destroy`: remove everything deploy created and report what was verified gone."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from deploytag.capabilities.base import LeftBehind, Removed, Teardown
from deploytag.capabilities.lock import LeaseKeeper
from deploytag.capabilities.namespace import check_branch
from deploytag.capabilities.registry import build as build_pipeline
from deploytag.capabilities.registry import in_check_order
from deploytag.capabilities.runner import StepRecord, run_each
from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig
from deploytag.core.errors import ClusterError, DeployTagError, PlanError
from deploytag.ports.cluster import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from deploytag.ports.progress import ProgressListener
from deploytag.ports.providers import Providers
from deploytag.service.deploy import new_run_id
from deploytag.service.reports import report_dict
from deploytag.service.resolve import target_for

__all__ = ["DESTROY_SCHEMA", "DestroyReport", "LeftBehind", "Removed", "destroy"]

log = logging.getLogger(__name__)

DESTROY_SCHEMA = "deploytag.destroy/v1"


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
    records: list[StepRecord] = []
    try:
        if names.kind == "permanent" and not allow_permanent:
            raise PlanError(
                f"{names.namespace} is the permanent {names.environment} environment",
                hint="pass --allow-permanent if you really mean to remove it",
            )
        existing = cluster.get_namespace(name=names.namespace)
        if existing is not None:
            if existing.labels.get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE:
                raise PlanError(
                    f"namespace {names.namespace} is not managed by DeployTag; refusing to delete it",
                    hint="remove it by hand if it is really yours",
                )
            check_branch(
                existing, branch=names.branch, hint="pass the branch that namespace was deployed for"
            )
        teardown = Teardown(
            loaded=loaded,
            names=names,
            providers=providers,
            progress=progress,
            existing=existing,
            skip=skip,
            timeout_seconds=timeout_seconds,
            removed=report.removed,
        )
        # The registry backwards: DNS first (names stop pointing at a load balancer about to go),
        # the release, the database (its record lives on the namespace), the namespace last.
        pipeline = build_pipeline()
        for capability in in_check_order(pipeline):
            capability.check_removal(teardown=teardown)
        report.left_behind = [lost for c in pipeline for lost in c.left_behind(teardown=teardown)]
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
            run_each(
                [c for c in reversed(pipeline) if c.removes(teardown=teardown)],
                lambda capability: capability.remove(teardown=teardown),
                clock=clock,
                progress=progress,
                records=records,
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
