"""`deploytag deploy`: plan -> test -> namespace -> quota -> secrets -> release -> verify.

Later capabilities (images, database, DNS) are steps inserted into
``deploy_steps``; each is an idempotent ensure, so a killed run converges when
started again. Progress and the outcome are recorded on the namespace.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig
from deploytag.core.errors import DeployTagError, VerifyError
from deploytag.core.timestamps import compact, rfc3339
from deploytag.core.values import file_layer
from deploytag.ports.progress import ProgressListener
from deploytag.ports.providers import Providers
from deploytag.service.pipeline import StepRecord, run_steps
from deploytag.service.reports import report_dict
from deploytag.service.resolve import target_for
from deploytag.steps.chartvalues import chart_dir, helm_values, injected_values, values_files
from deploytag.steps.context import DeployOptions, RunContext, Step, annotation, dumps
from deploytag.steps.database import DatabaseStep
from deploytag.steps.database import enabled as database_enabled
from deploytag.steps.dns import DnsStep, check_in_zone
from deploytag.steps.expose import ExposeStep
from deploytag.steps.imagebuild import build_args, plan_base
from deploytag.steps.images import AppImageStep, BaseImageStep
from deploytag.steps.lastgood import GoodRevision, record_good
from deploytag.steps.lock import LeaseKeeper, SupersededError
from deploytag.steps.migrate import MigrateStep, job_image
from deploytag.steps.namespace import NamespaceStep, QuotaStep, check_ownership
from deploytag.steps.ordering import (
    NEWEST_COMMIT,
    NEWEST_REQUESTED_AT,
    Ordering,
    Request,
    RequestBoard,
    gave_way,
    stop_if_older_than_newest,
)
from deploytag.steps.release import ReleaseStep
from deploytag.steps.secrets import SecretsStep
from deploytag.steps.testgate import TestGate
from deploytag.steps.verify import VerifyStep

__all__ = ["DeployOptions", "DeployReport", "deploy", "deploy_steps"]

log = logging.getLogger(__name__)

DEPLOY_SCHEMA = "deploytag.deploy/v1"


@dataclass
class DeployReport:
    schema: str
    outcome: str  # succeeded, unchanged, failed, skipped, superseded
    branch: str
    commit: str
    environment: str | None = None
    namespace: str | None = None
    release: str | None = None
    revision: int | None = None
    urls: list[str] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    digest: str | None = None
    images: list[dict[str, Any]] = field(default_factory=list)
    exception: DeployTagError | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return report_dict(self)


def deploy_steps() -> list[Step]:
    # Images first: a failed build must leave the cluster untouched. The database is ensured
    # before the Secret that carries its connection, and migrated before the release. DNS
    # before verify: the load balancer exists once the release is applied, and resolvers pick
    # the names up while the rollout is still becoming ready.
    return [
        BaseImageStep(),
        AppImageStep(),
        NamespaceStep(),
        QuotaStep(),
        DatabaseStep(),
        SecretsStep(),
        MigrateStep(),
        ReleaseStep(),
        ExposeStep(),
        DnsStep(),
        VerifyStep(),
    ]


def new_run_id(clock_now: float) -> str:
    return f"{socket.gethostname()[:20]}-{os.getpid()}-{compact(clock_now)}-{uuid.uuid4().hex[:6]}"


def deploy(
    *,
    loaded: LoadedConfig,
    providers: Providers,
    ref: BranchRef,
    options: DeployOptions,
    progress: ProgressListener,
) -> DeployReport:
    clock = providers.clock
    started = clock.monotonic()
    requested_at = clock.now()
    report = DeployReport(schema=DEPLOY_SCHEMA, outcome="skipped", branch=ref.branch, commit=ref.commit)
    target = target_for(ref, loaded)
    if target.match is None or target.names is None:
        report.error = f"branch {ref.branch!r} matches no deploy rule; nothing to do"
        return report
    names = target.names
    report.environment, report.namespace, report.release = names.environment, names.namespace, names.release
    ctx = RunContext(
        loaded=loaded,
        names=names,
        match=target.match,
        providers=providers,
        options=options,
        progress=progress,
        run_id=new_run_id(clock.now()),
        injected_values=injected_values(names, target.match, loaded),
        requested_at=requested_at,
    )
    records: list[StepRecord] = []
    keeper: LeaseKeeper | None = None
    board: RequestBoard | None = None
    namespace_ready = False
    try:
        preflight(ctx)
        ordering = Ordering(git=providers.git, repo=loaded.root)
        mine = Request(commit=ref.commit, requested_at=requested_at, run=ctx.run_id)
        _read_environment(ctx)
        stop_if_older_than_newest(ctx, ordering, mine)  # before the tests: they would be wasted
        run_steps(ctx, [TestGate()], records)
        cluster_config = loaded.config.cluster
        keeper = LeaseKeeper(
            leases=providers.cluster,
            clock=clock,
            namespace=cluster_config.lock_namespace,
            name=names.lease_name,
            holder=ctx.run_id,
            duration_seconds=cluster_config.lock_seconds,
        )
        board = RequestBoard(
            leases=providers.cluster,
            clock=clock,
            namespace=cluster_config.lock_namespace,
            name=names.lease_name,
            ordering=ordering,
            mine=mine,
            stale_seconds=cluster_config.lock_seconds,
        )
        wait = options.lock_wait_seconds
        keeper.acquire(
            wait_seconds=cluster_config.lock_wait_seconds if wait is None else wait,
            supersede=options.supersede,
            progress=progress,
            # While waiting, and once on taking it: record our request, or give way to a newer one.
            give_way=lambda: None if options.allow_older_commit else gave_way(board.register(), mine),
        )
        # Between steps, as the holder: only read (a waiting newer run has recorded itself).
        keeper.give_way = lambda: None if options.allow_older_commit else gave_way(board.newer(), mine)
        ctx.checkpoint = keeper.check
        # Another run may have deployed while we waited: decide on what is there now.
        _read_environment(ctx)
        stop_if_older_than_newest(ctx, ordering, mine)

        def record_progress(record: StepRecord) -> None:
            nonlocal namespace_ready
            namespace_ready = namespace_ready or record.name == "namespace"
            if namespace_ready:
                _patch(ctx, {annotation("progress"): dumps(_progress(ctx, records, "running"))})

        run_steps(ctx, deploy_steps(), records, before_each=keeper.check, after_each=record_progress)
        # "unchanged" only when no step changed anything: DNS or a database may change on their own.
        changed = any(r.outcome == "changed" for r in records)
        report.outcome = "unchanged" if ctx.unchanged and not changed else "succeeded"
    except SupersededError as e:
        report.outcome, report.error, report.exception = "superseded", str(e), None
    except DeployTagError as e:
        report.outcome, report.error, report.exception = "failed", str(e), e
        if isinstance(e, VerifyError):
            report.digest = e.digest
    finally:
        if namespace_ready and report.outcome != "superseded":
            _record_outcome(ctx, records, report.outcome)
        if keeper is not None:
            # Giving way to a newer waiting run: hand it the lease, so it goes on at once.
            newer = board.gave_way_to if board is not None and report.outcome == "superseded" else None
            keeper.release(hand_to=newer.run if newer is not None else "")
    report.revision = ctx.release.revision if ctx.release else None
    report.urls = ctx.urls
    report.images = [asdict(r) for r in ctx.images.values()]
    report.steps = [asdict(r) for r in records]
    report.seconds = round(clock.monotonic() - started, 3)
    return report


def _read_environment(ctx: RunContext) -> None:
    existing = ctx.providers.cluster.get_namespace(name=ctx.names.namespace)
    check_ownership(existing, ctx)
    ctx.previous = dict(existing.annotations) if existing else {}


def preflight(ctx: RunContext) -> None:
    """Everything that can be checked before the first side effect (DESIGN: plan before side effects).

    The chart and values files exist and parse, helm is installed, the secret
    store can be built, the cluster answers.
    """
    chart_dir(ctx.loaded)
    for path in values_files(ctx.loaded, ctx.names.environment):
        file_layer(path)  # parses: a broken values file fails here, not half-way through
    helm_values(ctx.loaded, ctx.match, injected=ctx.injected_values, set_values=ctx.options.set_values)
    ctx.providers.helm.version()
    if ctx.loaded.config.secrets.ids:
        _ = ctx.providers.secret_store
    if ctx.names.images and ctx.loaded.config.build.enabled and not ctx.options.skip_build:
        build_args(ctx.loaded)  # no secret-looking build args
        for ref in ctx.names.images:
            plan_base(ctx.loaded, ctx.loaded.config.images[ref.name])  # Dockerfile.base exists and parses
        _ = ctx.providers.image_builder  # installed, or a hint saying what to install
    dns = ctx.providers.dns
    if dns is not None:
        # Reads only: a wrong token or zone fails here, before the namespace exists.
        for record in ctx.names.dns_records:
            if record.fqdn:
                check_in_zone(dns, record.fqdn)
                dns.list_records(name=record.fqdn)
    if database_enabled(ctx.loaded, ctx.names):
        # Admin URL present and parseable, the server answers: fail before the namespace exists.
        db = ctx.providers.database
        db.role_state(role=ctx.names.database_role)
        if ctx.loaded.config.database.migrate and ctx.loaded.config.database.migrate_mode == "job":
            job_image(ctx)


def _progress(ctx: RunContext, records: list[StepRecord], state: str) -> dict[str, Any]:
    return {"run": ctx.run_id, "state": state, "steps": {r.name: r.outcome for r in records}}


def _record_outcome(ctx: RunContext, records: list[StepRecord], outcome: str) -> None:
    stamp = rfc3339(ctx.providers.clock.now())
    values: dict[str, str | None] = {
        annotation("progress"): dumps(_progress(ctx, records, outcome)),
        annotation("outcome"): "succeeded" if outcome in ("succeeded", "unchanged") else outcome,
        annotation("updated-at"): stamp,
    }
    if outcome in ("succeeded", "unchanged"):
        values.update(ctx.record)
        values[annotation("commit")] = ctx.names.commit
        values[annotation("deployed-at")] = stamp
        if not ctx.older_than_newest:
            values[NEWEST_COMMIT] = ctx.names.commit
            values[NEWEST_REQUESTED_AT] = rfc3339(ctx.requested_at)
        if ctx.release is not None:
            values[annotation("revision")] = str(ctx.release.revision)
            # Only a verified run moves the last good revision; a failed one never does.
            values.update(record_good(ctx.previous, GoodRevision(ctx.release.revision, ctx.names.commit)))
    else:
        # A failed run must not leave a fingerprint that makes the next run skip helm.
        values[annotation("fingerprint")] = None
    try:
        _patch(ctx, values)
    except DeployTagError as e:
        log.warning("could not record the outcome on namespace %s: %s", ctx.names.namespace, e)


def _patch(ctx: RunContext, values: dict[str, str | None]) -> None:
    ctx.providers.cluster.patch_namespace_annotations(name=ctx.names.namespace, annotations=values)
