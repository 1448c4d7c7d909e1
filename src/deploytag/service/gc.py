"""`deploytag gc`: reconcile the cluster's environments with the branches that still exist.

Decides with ``gcplan`` (branch gone, pull/merge request closed or merged, TTL passed),
then removes each environment that goes with the existing destroy (its verified teardown
report included), several at once (``parallel`` threads). One failure does not stop the
rest; the report lists every environment with its reason and outcome. Previews about to
expire are marked (``deploytag.dev/expiring``) for PR feedback to warn. ``dry_run``
changes nothing at all.
"""

from __future__ import annotations

import functools
import glob
import logging
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import msgspec
from msgspec import structs

from deploytag.capabilities.namespace import APP_LABEL
from deploytag.core.branch import BranchRef
from deploytag.core.config import BranchRules, LoadedConfig
from deploytag.core.errors import ClusterError, DeployTagError
from deploytag.core.timestamps import parse_rfc3339, rfc3339
from deploytag.ports.changes import ChangeRequests
from deploytag.ports.cluster import ENVIRONMENT_SELECTOR
from deploytag.ports.progress import ProgressListener
from deploytag.ports.providers import Providers
from deploytag.service import destroy as destroy_service
from deploytag.service import gcfleet
from deploytag.service.environments import environment_row
from deploytag.service.expiry import EXPIRING
from deploytag.service.gcplan import Checks, Verdict, change_lookup, judge
from deploytag.service.reports import report_dict
from deploytag.service.resolve import target_for

log = logging.getLogger(__name__)

GC_SCHEMA = "deploytag.gc/v1"


class GcRequest(msgspec.Struct, frozen=True, kw_only=True):
    remote: str  # git remote whose branches are alive
    dry_run: bool = False
    parallel: int = 4
    all_apps: bool = False
    warn_hours: float | None = None
    check_changes: bool = True
    timeout_seconds: int = 300  # per environment: how long destroy waits for the namespace to go
    environ: Mapping[str, str] = msgspec.field(default_factory=dict)  # tokens for the git host's API
    sleep_after_hours: float | None = None  # idle previews (kept, not pinned) put to sleep
    force_finalize: bool = False  # clear the finalizers holding stuck namespaces in scope
    orphans: bool = True  # run the orphan sweep (removing unless dry_run)
    actor: str = "unknown"  # who runs gc: recorded by sleep and force-finalize


class GcEntry(msgspec.Struct):
    namespace: str
    app: str
    branch: str
    kind: str
    reason: str  # branch-gone, change-merged, change-closed, ttl-expired; "" when kept
    detail: str
    expires_at: str
    # would-remove (dry run), removed, absent, failed; kept, expiring (kept, marked)
    outcome: str
    seconds: float = 0.0
    teardown: dict[str, Any] | None = None  # the destroy report (schema deploytag.destroy/v1)
    error: str | None = None
    sleep: str = ""  # "", would-sleep (dry run), slept, failed: --sleep-after-hours


@dataclass
class GcReport:
    schema: str
    app: str
    all_apps: bool
    dry_run: bool
    remote: str
    checks: dict[str, str] = field(default_factory=dict)  # what was asked: branches, changes
    warnings: list[str] = field(default_factory=list)
    environments: list[GcEntry] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # namespaces removed and verified gone
    failed: list[str] = field(default_factory=list)
    # Kept but expiring within warn_hours: {namespace, app, branch, expires_at, urls, newly_marked}
    expiring: list[dict[str, Any]] = field(default_factory=list)
    stuck: list[dict[str, Any]] = field(default_factory=list)  # namespaces stuck terminating, what holds them
    force_finalized: list[dict[str, Any]] = field(default_factory=list)  # --force-finalize results
    orphans: list[dict[str, Any]] = field(default_factory=list)  # the orphan sweep, one per orphan
    problems: list[str] = field(default_factory=list)  # other failures: sleep, finalize, orphans
    seconds: float = 0.0
    error: str | None = None
    exception: DeployTagError | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return report_dict(self)


def gc(
    *, loaded: LoadedConfig, providers: Providers, request: GcRequest, progress: ProgressListener
) -> GcReport:
    """Decide, then remove; raises before any change when the remote cannot be read."""
    clock = providers.clock
    started = clock.monotonic()
    cfg = loaded.config
    report = GcReport(
        schema=GC_SCHEMA,
        app=cfg.app,
        all_apps=request.all_apps,
        dry_run=request.dry_run,
        remote=request.remote,
    )
    checks = Checks()
    # Both checks come first: an unknown remote or an unreachable one stops gc before any change.
    heads = providers.git.remote_branches(repo=loaded.root, remote=request.remote)
    checks.branches = f"{len(heads)} branches on {request.remote} (git ls-remote --heads)"
    changes = _changes(loaded, providers, request, checks)
    change_of = change_lookup(changes, checks)

    selector = ENVIRONMENT_SELECTOR if request.all_apps else f"{ENVIRONMENT_SELECTOR},{APP_LABEL}={cfg.app}"
    namespaces = sorted(providers.cluster.list_namespaces(label_selector=selector), key=lambda n: n.name)
    now = clock.now()
    verdicts = []
    for ns in namespaces:
        own = ns.labels.get(APP_LABEL) == cfg.app
        verdicts.append(
            judge(
                ns,
                loaded=loaded,
                now=now,
                heads=heads if own else None,
                remote=request.remote,
                change_of=change_of if own else None,
                warn_hours=request.warn_hours,
            )
        )
    entries = {v.namespace.name: _entry(v, request.dry_run) for v in verdicts}
    going = [v for v in verdicts if v.reason]
    if not request.dry_run:
        _mark_expiring(verdicts, providers, report)
        _remove_all(going, entries, loaded=loaded, providers=providers, request=request, progress=progress)
    config_for = functools.partial(_config_for, loaded)
    gcfleet.sleep_idle(
        verdicts, entries, config_for=config_for, providers=providers, request=request, report=report
    )
    by_name = {v.namespace.name: v for v in verdicts}

    def retry(namespace: str) -> None:
        v, entry = by_name[namespace], entries[namespace]
        entry.error = None
        _remove_one(
            v,
            entry,
            loaded=loaded,
            providers=providers,
            request=request,
            progress=progress,
            skip_if_stuck=False,
        )

    gcfleet.stuck_and_finalize(
        entries, loaded=loaded, providers=providers, request=request, report=report, retry=retry
    )
    gcfleet.sweep_orphans(loaded=loaded, providers=providers, request=request, report=report)
    report.environments = list(entries.values())
    report.checks = {"branches": checks.branches, "changes": checks.changes}
    report.warnings += checks.warnings
    report.removed = [e.namespace for e in report.environments if e.outcome in ("removed", "absent")]
    report.failed = [e.namespace for e in report.environments if e.outcome == "failed"]
    report.expiring = [_expiring(v) for v in verdicts if v.expiring and not v.reason]
    failures = []
    if report.failed:
        failures.append(
            f"{len(report.failed)} of {len(going)} environments could not be removed: "
            + ", ".join(report.failed)
        )
    failures += report.problems
    if failures:
        report.error = "; ".join(failures)
        report.exception = ClusterError(report.error, hint="see each environment's error; run gc again")
    report.seconds = round(clock.monotonic() - started, 3)
    return report


def _entry(v: Verdict, dry_run: bool) -> GcEntry:
    if v.reason:
        outcome = "would-remove" if dry_run else "removing"
    else:
        outcome = "expiring" if v.expiring else "kept"
    return GcEntry(
        namespace=v.namespace.name,
        app=v.app,
        branch=v.branch,
        kind=v.kind,
        reason=v.reason,
        detail=v.detail,
        expires_at=v.expiry.expires_text,
        outcome=outcome,
    )


def _changes(
    loaded: LoadedConfig, providers: Providers, request: GcRequest, checks: Checks
) -> ChangeRequests | None:
    if not request.check_changes:
        checks.changes = "off (gc.check_changes is false)"
        return None
    from deploytag.adapters.common.http import UrllibHttp
    from deploytag.adapters.git.hosts import from_remote, host_api

    url = providers.git.remote_url(repo=loaded.root, name=request.remote) or ""
    changes = from_remote(url, environ=request.environ, http=UrllibHttp())
    found = host_api(url, environ=request.environ)
    if changes is not None:
        checks.changes = f"{changes.host} {changes.repository}"
    elif found is None:
        checks.changes = f"not checked: {request.remote} is not a GitHub or GitLab repository"
    elif found[0] == "github":
        checks.changes = "not checked: no GITHUB_TOKEN (or GH_TOKEN) for GitHub"
    else:
        checks.changes = "not checked: no GITLAB_TOKEN (or CI_JOB_TOKEN in GitLab CI) for GitLab"
    return changes


def _expiring(v: Verdict) -> dict[str, Any]:
    """What PR feedback needs to warn: ``newly_marked`` is false when an earlier gc marked it already
    (so the warning is posted once, not on every run)."""
    expires = v.expiry.expires_text
    return {
        "namespace": v.namespace.name,
        "app": v.app,
        "branch": v.branch,
        "expires_at": expires,
        "urls": environment_row(v.namespace).urls,
        "newly_marked": v.namespace.annotations.get(EXPIRING) != expires,
    }


def _mark_expiring(verdicts: list[Verdict], providers: Providers, report: GcReport) -> None:
    """Mark previews about to expire, and unmark those no longer (redeployed, pinned)."""
    for v in verdicts:
        if v.reason:
            continue
        wanted = rfc3339(v.expiry.expires_at) if v.expiring and v.expiry.expires_at is not None else None
        if v.namespace.annotations.get(EXPIRING) == wanted:
            continue
        try:
            providers.cluster.patch_namespace_annotations(
                name=v.namespace.name, annotations={EXPIRING: wanted}
            )
        except DeployTagError as e:
            report.warnings.append(f"could not mark {v.namespace.name} expiring: {e}")


def _remove_all(
    going: list[Verdict],
    entries: dict[str, GcEntry],
    *,
    loaded: LoadedConfig,
    providers: Providers,
    request: GcRequest,
    progress: ProgressListener,
) -> None:
    if not going:
        return
    _ = providers.cluster  # built once here, not raced by the threads
    lock = threading.Lock()

    def remove(v: Verdict) -> None:
        entry = entries[v.namespace.name]
        shown = _EnvironmentProgress(progress, lock, v.namespace.name)
        shown.note(text=f"removing ({v.detail})")
        try:
            _remove_one(v, entry, loaded=loaded, providers=providers, request=request, progress=shown)
        except Exception as e:  # one environment's failure never stops the others
            log.debug("gc could not remove %s", v.namespace.name, exc_info=True)
            entry.outcome, entry.error = "failed", f"{type(e).__name__}: {e}"
        shown.note(text=f"{entry.outcome} ({entry.seconds:.1f} s)")

    with ThreadPoolExecutor(max_workers=max(1, request.parallel), thread_name_prefix="gc") as pool:
        list(pool.map(remove, going))


def _remove_one(
    v: Verdict,
    entry: GcEntry,
    *,
    loaded: LoadedConfig,
    providers: Providers,
    request: GcRequest,
    progress: ProgressListener,
    skip_if_stuck: bool = True,
) -> None:
    """One environment's destroy. One stuck terminating for minutes is not waited for again
    (a past run waited for it, for ``--timeout``): with ``skip_if_stuck`` it is reported stuck at once."""
    since = parse_rfc3339(v.namespace.deleting_since)
    if skip_if_stuck and since is not None and providers.clock.now() - since >= gcfleet.STUCK_AFTER_SECONDS:
        entry.outcome = "failed"
        entry.error = (
            f"namespace {v.namespace.name} has been terminating since {v.namespace.deleting_since}: "
            "stuck (see `stuck` for what holds it); pass --force-finalize to clear it"
        )
        return
    ref = BranchRef(branch=v.branch, commit="", source="gc")
    for_app = _config_for(loaded, v)
    names = target_for(ref, for_app).names
    if names is None or names.namespace != v.namespace.name:
        derived = names.namespace if names is not None else "none"
        entry.outcome = "failed"
        entry.error = (
            f"branch {v.branch!r} of app {v.app} derives namespace {derived}, not {v.namespace.name}; "
            "nothing removed: remove it with `deploytag destroy` from that app's repository"
        )
        return
    report = destroy_service.destroy(
        loaded=for_app,
        providers=providers,
        ref=ref,
        progress=progress,
        timeout_seconds=request.timeout_seconds,
    )
    entry.teardown = report.to_dict()
    entry.seconds = report.seconds
    entry.outcome = report.outcome if report.outcome in ("removed", "absent") else "failed"
    entry.error = report.error if entry.outcome == "failed" else None


def _config_for(loaded: LoadedConfig, v: Verdict) -> LoadedConfig:
    """The configuration destroy derives this environment's names with.

    The app's own, when its rules still make the branch a preview; otherwise (another app's,
    or rules changed since the deploy) the same with that app's name and a rule matching
    just this branch. Derived names are checked against the namespace before any removal.
    """
    cfg = loaded.config
    if v.app == cfg.app:
        names = target_for(BranchRef(branch=v.branch, commit="", source="gc"), loaded).names
        if names is not None and names.kind == "preview" and names.namespace == v.namespace.name:
            return loaded
    rules = BranchRules(previews=[glob.escape(v.branch)], permanent={})
    return structs.replace(loaded, config=structs.replace(cfg, app=v.app, branches=rules))


class _EnvironmentProgress:
    """The caller's listener shared by the threads: one line at a time, each naming its environment."""

    def __init__(self, inner: ProgressListener, lock: threading.Lock, namespace: str) -> None:
        self._inner, self._lock, self._namespace = inner, lock, namespace

    def step_started(self, *, step: str) -> None:
        pass  # a spinner per thread would interleave; finished steps are shown

    def step_finished(self, *, step: str, outcome: str, seconds: float, detail: str) -> None:
        with self._lock:
            self._inner.step_finished(
                step=step, outcome=outcome, seconds=seconds, detail=f"{self._namespace}: {detail}"
            )

    def note(self, *, text: str) -> None:
        with self._lock:
            self._inner.note(text=f"{self._namespace}: {text}")
