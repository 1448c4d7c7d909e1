"""`deploytag deploy`: preflight, then the registry's capabilities in order (capabilities/registry.py).

The test gate runs first, before the lease; the rest run under it. Each is an
idempotent ensure, so a killed run converges when started again. Progress and
the outcome are recorded on the namespace.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from deploytag.capabilities.chartvalues import injected_values
from deploytag.capabilities.context import DeployOptions, RunContext, Step, annotation, dumps
from deploytag.capabilities.lastgood import GoodRevision, record_good
from deploytag.capabilities.limits import author_of, check_limits, lazy_author
from deploytag.capabilities.lock import LeaseKeeper, SupersededError
from deploytag.capabilities.namespace import check_ownership
from deploytag.capabilities.ordering import (
    NEWEST_COMMIT,
    NEWEST_REQUESTED_AT,
    Ordering,
    Request,
    RequestBoard,
    gave_way,
    stop_if_older_than_newest,
)
from deploytag.capabilities.outputs import BuiltImages, DnsUrls, EnvironmentUrls, ReleaseResult
from deploytag.capabilities.registry import TEST_GATE, in_check_order, names
from deploytag.capabilities.registry import build as build_pipeline
from deploytag.capabilities.runner import StepRecord, run_steps
from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig
from deploytag.core.errors import DeployTagError, VerifyError
from deploytag.core.records import asdict
from deploytag.core.timestamps import compact, rfc3339
from deploytag.ports.progress import ProgressListener
from deploytag.ports.providers import Providers
from deploytag.service.costs import environment_cost
from deploytag.service.reports import report_dict
from deploytag.service.resolve import target_for

__all__ = ["DeployOptions", "DeployReport", "author_of", "deploy", "deploy_steps", "lazy_author"]

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
    # Estimated monthly cost of what now runs (core.cost: cpu, memory_gib, monthly, currency).
    cost: dict[str, Any] | None = None
    exception: DeployTagError | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return report_dict(self)


# A step that changed nothing and took less than this is not followed by a read of the lease
# for a newer request (a no-op redeploy's steps take milliseconds; each read is a round trip).
QUIET_STEP_SECONDS = 0.5


def deploy_steps() -> list[Step]:
    """Every capability but the test gate, in the registry's order, checked against their needs."""
    return build_pipeline([name for name in names() if name != TEST_GATE])


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
    checks: PendingChecks | None = None
    try:
        checks = _preflight_and_read_environment(ctx)
        ordering = Ordering(git=providers.git, repo=loaded.root)
        mine = Request(commit=ref.commit, requested_at=requested_at, run=ctx.run_id)
        stop_if_older_than_newest(ctx, ordering, mine)  # before the tests: they would be wasted
        gate = build_pipeline([TEST_GATE])
        if not options.skip_tests and any(g.applies(loaded=loaded, names=names) for g in gate):
            checks.wait()  # tests take a while: a failed check should not wait for them
        run_steps(ctx, gate, records)
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
        steps = deploy_steps()  # loading the capabilities fits in the checks' wait for helm
        # The lease is ours to give back, whatever the checks say; the environment is still untouched.
        checks.wait()

        quiet = False  # every step since the last check found its state current, in a moment

        def before_step() -> None:
            # A newer run waiting for the lease gains nothing from our stopping after steps that
            # did nothing: then only a takeover (no request) is checked, not the lease read again.
            if not quiet or keeper.lost:
                keeper.check()

        def after_step(record: StepRecord) -> None:
            # Progress is written after a step that changed something; steps that skipped or found
            # their state current are carried by the next write (at the latest the outcome's), so
            # a no-op redeploy costs one write instead of one per step.
            nonlocal namespace_ready, quiet
            quiet = record.outcome in ("skipped", "unchanged") and record.seconds < QUIET_STEP_SECONDS
            namespace_ready = namespace_ready or record.name == "namespace"
            if namespace_ready and record.outcome == "changed":
                _patch(ctx, {annotation("progress"): dumps(_progress(ctx, records, "running"))})

        run_steps(ctx, steps, records, before_each=before_step, after_each=after_step)
        # "unchanged" only when no step changed anything: DNS or a database may change on their own.
        changed = any(r.outcome == "changed" for r in records)
        release = ctx.outputs.find(ReleaseResult)
        unchanged = release is not None and release.unchanged
        report.outcome = "unchanged" if unchanged and not changed else "succeeded"
    except SupersededError as e:
        report.outcome, report.error, report.exception = "superseded", str(e), None
    except DeployTagError as e:
        e = checks.first_error(e) if checks is not None else e
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
    release = ctx.outputs.find(ReleaseResult)
    report.revision = release.info.revision if release is not None and release.info is not None else None
    urls = ctx.outputs.find(EnvironmentUrls) or ctx.outputs.find(DnsUrls)
    report.urls = list(urls.urls) if urls is not None else []
    built = ctx.outputs.find(BuiltImages)
    report.images = [asdict(r) for r in built.results.values()] if built is not None else []
    report.steps = [asdict(r) for r in records]
    if report.outcome in ("succeeded", "unchanged"):
        report.cost = _cost(ctx)
    report.seconds = round(clock.monotonic() - started, 3)
    return report


class PendingChecks:
    """The read-only checks (capabilities' preflight), running in a thread until ``wait``.

    They run while the run reads the environment and takes the lease: their waiting (helm's
    start-up, servers answering) overlaps that work. ``wait`` comes before anything the
    environment would keep (the test gate's long run, the first step), and a failed check is
    then the error reported, as when the checks ran first.
    """

    def __init__(self, ctx: RunContext) -> None:
        self._failure: list[BaseException] = []
        # A daemon thread: an interrupted run does not wait for a slow server to answer a check.
        self._thread = threading.Thread(
            target=self._run, args=(ctx,), name="deploytag-preflight", daemon=True
        )
        self._thread.start()

    def _run(self, ctx: RunContext) -> None:
        try:
            preflight(ctx)
        except BaseException as e:  # handed to the caller's thread
            self._failure.append(e)

    def wait(self) -> None:
        """Raise the first failed check; returns at once once the checks are known to pass."""
        found = self.failure()
        if found is not None:
            raise found

    def failure(self) -> BaseException | None:
        """The first failed check (after waiting for them all), or None."""
        self._thread.join()
        return self._failure[0] if self._failure else None

    def first_error(self, error: DeployTagError) -> DeployTagError:
        """The error to report for a run that failed with ``error``: a failed check says what to fix
        first, also when something after the checks started (waiting for the lease) failed too."""
        found = self.failure()
        if found is None:
            return error
        if not isinstance(found, DeployTagError):
            raise found from error
        return found


def _preflight_and_read_environment(ctx: RunContext) -> PendingChecks:
    """Start the checks, then read the environment. A failed read is reported after the checks
    finish, so a failed check (what to fix first) is the error whenever there is one."""
    checks = PendingChecks(ctx)
    try:
        _read_environment(ctx)
    except DeployTagError:
        checks.wait()
        raise
    return checks


def _read_environment(ctx: RunContext) -> None:
    """Read the namespace; refuse another branch's environment or a new preview over a limit."""
    cluster = ctx.providers.cluster
    existing = cluster.get_namespace(name=ctx.names.namespace)
    check_ownership(existing, ctx)
    check_limits(
        cluster=cluster,
        config=ctx.loaded.config,
        names=ctx.names,
        author=ctx.options.author,
        existing=existing,
        now=ctx.providers.clock.now(),
    )
    ctx.previous = dict(existing.annotations) if existing else {}


def _cost(ctx: RunContext) -> dict[str, Any] | None:
    """The estimate for the summary; best effort: a deploy that worked is not failed by it."""
    try:
        return environment_cost(ctx.providers.cluster, ctx.loaded.config.cost, ctx.names.namespace).to_dict()
    except DeployTagError as e:
        log.warning("could not estimate the cost of %s: %s", ctx.names.namespace, e)
        return None


def preflight(ctx: RunContext) -> None:
    """Everything that can be checked before the first side effect (DESIGN: plan before side effects).

    Each capability checks its own part (the chart and values files parse, helm is
    installed, the secret store can be built, the DNS zone and the database server
    answer); local files first, then the servers.
    """
    for capability in in_check_order(build_pipeline()):
        capability.preflight(ctx=ctx)


def _progress(ctx: RunContext, records: list[StepRecord], state: str) -> dict[str, Any]:
    return {"run": ctx.run_id, "state": state, "steps": {r.name: r.outcome for r in records}}


def _record_outcome(ctx: RunContext, records: list[StepRecord], outcome: str) -> None:
    stamp = rfc3339(ctx.providers.clock.now())
    values: dict[str, str | None] = {
        annotation("progress"): dumps(_progress(ctx, records, outcome)),
        annotation("outcome"): "succeeded" if outcome in ("succeeded", "unchanged") else outcome,
        annotation("updated-at"): stamp,
        annotation("run"): ctx.run_id,
    }
    if outcome in ("succeeded", "unchanged"):
        values.update(ctx.recorded)
        values[annotation("commit")] = ctx.names.commit
        values[annotation("deployed-at")] = stamp
        if not ctx.older_than_newest:
            values[NEWEST_COMMIT] = ctx.names.commit
            values[NEWEST_REQUESTED_AT] = rfc3339(ctx.requested_at)
        release = ctx.outputs.find(ReleaseResult)
        if release is not None and release.info is not None:
            values[annotation("revision")] = str(release.info.revision)
            # Only a verified run moves the last good revision; a failed one never does.
            values.update(record_good(ctx.previous, GoodRevision(release.info.revision, ctx.names.commit)))
    else:
        # A failed run must not leave a fingerprint that makes the next run skip helm.
        values[annotation("fingerprint")] = None
    try:
        _patch(ctx, values)
    except DeployTagError as e:
        log.warning("could not record the outcome on namespace %s: %s", ctx.names.namespace, e)


def _patch(ctx: RunContext, values: dict[str, str | None]) -> None:
    ctx.providers.cluster.patch_namespace_annotations(name=ctx.names.namespace, annotations=values)
