"""`deploytag rollback`: return an environment to its last good revision (or a chosen one).

A person's explicit choice, so unlike a deploy it is never skipped for being
older. It holds the environment's Lease like deploy does, restores the revision
recorded as last good on the namespace (never Helm's "previous revision", which
may be the broken one), waits for it, and records the outcome on the namespace.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from deploytag.capabilities.context import annotation, dumps
from deploytag.capabilities.lastgood import (
    GoodRevision,
    check_restorable,
    good_revisions,
    last_good,
    record_good,
    restore,
)
from deploytag.capabilities.lock import LeaseKeeper
from deploytag.capabilities.namespace import check_branch
from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig
from deploytag.core.errors import DeployTagError, NotFoundError, PlanError, ReleaseError
from deploytag.core.naming import NamePlan
from deploytag.core.timestamps import rfc3339
from deploytag.ports.cluster import MANAGED_BY_LABEL, MANAGED_BY_VALUE, NamespaceInfo
from deploytag.ports.progress import ProgressListener
from deploytag.ports.providers import Providers
from deploytag.service.deploy import new_run_id
from deploytag.service.reports import report_dict
from deploytag.service.resolve import target_for

log = logging.getLogger(__name__)

ROLLBACK_SCHEMA = "deploytag.rollback/v1"


@dataclass
class RollbackReport:
    schema: str
    outcome: str  # rolled-back, unchanged, failed, skipped
    branch: str
    namespace: str | None = None
    release: str | None = None
    from_revision: int | None = None  # helm's latest revision before
    to_revision: int | None = None  # the revision restored
    to_commit: str | None = None  # its commit, when recorded
    revision: int | None = None  # the revision helm made for the rollback
    seconds: float = 0.0
    error: str | None = None
    exception: DeployTagError | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return report_dict(self)


def rollback(
    *,
    loaded: LoadedConfig,
    providers: Providers,
    ref: BranchRef,
    progress: ProgressListener,
    revision: int | None = None,
    timeout_seconds: int | None = None,
    lock_wait_seconds: int | None = None,
) -> RollbackReport:
    clock = providers.clock
    started = clock.monotonic()
    report = RollbackReport(schema=ROLLBACK_SCHEMA, outcome="skipped", branch=ref.branch)
    names = target_for(ref, loaded).names
    if names is None:
        report.error = f"branch {ref.branch!r} matches no deploy rule; nothing to roll back"
        return report
    report.namespace, report.release = names.namespace, names.release
    cfg = loaded.config.cluster
    run_id = new_run_id(clock.now())
    keeper: LeaseKeeper | None = None
    changing = False  # helm was asked to roll back: a failure from here on is recorded
    try:
        _environment(providers, names)  # fail before waiting for a lease of nothing
        keeper = LeaseKeeper(
            leases=providers.cluster,
            clock=clock,
            namespace=cfg.lock_namespace,
            name=names.lease_name,
            holder=run_id,
            duration_seconds=cfg.lock_seconds,
        )
        keeper.acquire(
            wait_seconds=cfg.lock_wait_seconds if lock_wait_seconds is None else lock_wait_seconds,
            supersede=False,
            progress=progress,
        )
        annotations = _environment(providers, names).annotations  # as it is now, under the lease
        good = _choose(annotations, revision, names)
        report.to_revision, report.to_commit = good.revision, good.commit or None
        if _already_current(report, providers, names, good, annotations):
            progress.note(text=f"{good.describe()} is already the current, working revision")
        else:
            history = providers.helm.history(
                release=names.release, namespace=names.namespace, target=providers.kube_target
            )
            check_restorable(history, good, release=names.release)  # a refusal changes nothing
            changing = True
            timeout = timeout_seconds or loaded.config.chart.timeout_seconds
            _restore_and_record(report, providers, names, good, annotations, timeout, progress, run_id)
    except DeployTagError as e:
        report.outcome, report.error, report.exception = "failed", str(e), e
        if changing:
            _record_failure(providers, names, run_id)
    finally:
        if keeper is not None:
            keeper.release()
    report.seconds = round(clock.monotonic() - started, 3)
    return report


def _environment(providers: Providers, names: NamePlan) -> NamespaceInfo:
    existing = providers.cluster.get_namespace(name=names.namespace)
    if existing is None:
        raise NotFoundError(
            f"branch {names.branch!r} has no environment (namespace {names.namespace} does not exist)",
            hint=f"deploy it with: deploytag deploy --branch {names.branch}",
        )
    if existing.labels.get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE:
        raise PlanError(
            f"namespace {names.namespace} is not managed by DeployTag; refusing to roll it back",
            hint="use helm rollback by hand if it is really yours",
        )
    check_branch(existing, branch=names.branch, hint="pass the branch that namespace was deployed for")
    return existing


def _choose(annotations: Any, revision: int | None, names: NamePlan) -> GoodRevision:
    if revision is not None:
        return GoodRevision(revision, good_revisions(annotations).get(revision, ""))
    good = last_good(annotations)
    if good is None:
        raise ReleaseError(
            f"no revision of {names.release} is recorded as good (none was ever verified ready)",
            hint="deploy a working commit, or pass --revision N to pick one from `helm history`",
        )
    return good


def _already_current(
    report: RollbackReport, providers: Providers, names: NamePlan, good: GoodRevision, annotations: Any
) -> bool:
    current = providers.helm.status(
        release=names.release, namespace=names.namespace, target=providers.kube_target
    )
    if current is None:
        raise NotFoundError(
            f"release {names.release} does not exist in {names.namespace}",
            hint=f"deploy it with: deploytag deploy --branch {names.branch}",
        )
    report.from_revision = current.revision
    if (
        current.revision == good.revision
        and current.status == "deployed"
        and annotations.get(annotation("outcome")) == "succeeded"
    ):
        report.outcome, report.revision = "unchanged", current.revision
        return True
    return False


def _restore_and_record(
    report: RollbackReport,
    providers: Providers,
    names: NamePlan,
    good: GoodRevision,
    annotations: Any,
    timeout_seconds: int,
    progress: ProgressListener,
    run_id: str,
) -> None:
    helm, target, clock = providers.helm, providers.kube_target, providers.clock
    progress.step_started(step="rollback")
    t0 = clock.monotonic()
    info = restore(
        helm=helm,
        target=target,
        release=names.release,
        namespace=names.namespace,
        good=good,
        timeout_seconds=timeout_seconds,
        progress=progress,
        why="the last good one" if last_good(annotations) == good else "as asked",
    )
    progress.step_finished(
        step="rollback",
        outcome="changed",
        seconds=clock.monotonic() - t0,
        detail=f"{good.describe()} restored as revision {info.revision}",
    )
    report.outcome, report.revision = "rolled-back", info.revision
    stamp = rfc3339(clock.now())
    values: dict[str, str | None] = {
        annotation("progress"): dumps(
            {"run": run_id, "state": "rolled-back", "steps": {"rollback": "changed"}}
        ),
        annotation("outcome"): "succeeded",
        annotation("updated-at"): stamp,
        annotation("deployed-at"): stamp,
        annotation("revision"): str(info.revision),
        annotation("rolled-back-to"): str(good.revision),
        # What runs now is the restored revision's commit; the fingerprint no longer matches it,
        # so the next deploy runs helm. The newest-commit mark stays: late CI retries of commits
        # between stay skipped.
        annotation("commit"): good.commit or None,
        annotation("fingerprint"): None,
        **record_good(annotations, GoodRevision(info.revision, good.commit)),
    }
    providers.cluster.patch_namespace_annotations(name=names.namespace, annotations=values)


def _record_failure(providers: Providers, names: NamePlan, run_id: str) -> None:
    """The outcome, as deploy records it; the last good revision stays where it was."""
    values: dict[str, str | None] = {
        annotation("progress"): dumps({"run": run_id, "state": "failed", "steps": {"rollback": "failed"}}),
        annotation("outcome"): "failed",
        annotation("updated-at"): rfc3339(providers.clock.now()),
        annotation("fingerprint"): None,
    }
    try:
        providers.cluster.patch_namespace_annotations(name=names.namespace, annotations=values)
    except DeployTagError as e:  # the report carries the failure; never mask it with this one
        log.warning("could not record the outcome on namespace %s: %s", names.namespace, e)
