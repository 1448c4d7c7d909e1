"""The API's calls: each loads the configuration, builds providers, resolves the branch and runs
one service function, returning its typed result (the records the CLI prints as JSON)."""

from __future__ import annotations

from deploytag.api.options import (
    DeployOptions,
    DestroyOptions,
    GcOptions,
    InitOptions,
    ListOptions,
    PinOptions,
    PlanOptions,
    RollbackOptions,
    StatusOptions,
    UnpinOptions,
)
from deploytag.api.runtime import Runtime
from deploytag.api.session import configured, for_branch
from deploytag.core.config import LoadedConfig
from deploytag.core.errors import ConfigError
from deploytag.core.identity import actor as actor_from
from deploytag.core.timestamps import parse_until
from deploytag.ports.progress import ProgressListener, SilentProgress
from deploytag.ports.providers import Providers
from deploytag.service import deploy as deploy_service
from deploytag.service import destroy as destroy_service
from deploytag.service import environments as environments_service
from deploytag.service import feedback as feedback_service
from deploytag.service import gc as gc_service
from deploytag.service import init as init_service
from deploytag.service import pins as pins_service
from deploytag.service import plan as plan_service
from deploytag.service import rollback as rollback_service
from deploytag.service import status as status_service
from deploytag.service.deploy import DeployReport
from deploytag.service.destroy import DestroyReport
from deploytag.service.environments import EnvironmentRow
from deploytag.service.gc import GcReport
from deploytag.service.init import InitReport
from deploytag.service.pins import PinReport
from deploytag.service.plan import PlanResult
from deploytag.service.rollback import RollbackReport
from deploytag.service.status import EnvironmentStatus


def deploy(
    *, runtime: Runtime, options: DeployOptions | None = None, progress: ProgressListener | None = None
) -> DeployReport:
    """Deploy the branch. A failed run is a report with ``exception`` set, not a raise."""
    options = options or DeployOptions()
    loaded, providers, ref = for_branch(runtime, branch=options.branch, commit=options.commit)
    service_options = deploy_service.DeployOptions(
        atomic=options.atomic,
        supersede=options.supersede,
        skip_tests=options.skip_tests,
        adopt=options.adopt,
        force=options.force,
        timeout_seconds=options.timeout_seconds,
        set_values=dict(options.set_values),
        lock_wait_seconds=options.lock_wait_seconds,
        skip_build=options.skip_build,
        rotate_database_password=options.rotate_database_password,
        allow_older_commit=options.allow_older_commit,
        author=deploy_service.author_of(
            environ=runtime.environ, git=providers.git, repo=loaded.root, commit=ref.commit
        ),
    )
    listener = progress or SilentProgress()
    session = _feedback(runtime, loaded, providers, options.feedback, options.pull_request, listener)
    return feedback_service.reported_deploy(
        session,
        loaded=loaded,
        ref=ref,
        clock=providers.clock,
        deploy=lambda: deploy_service.deploy(
            loaded=loaded, providers=providers, ref=ref, options=service_options, progress=listener
        ),
    )


def destroy(
    *, runtime: Runtime, options: DestroyOptions | None = None, progress: ProgressListener | None = None
) -> DestroyReport:
    """Remove the branch's environment and report what is verified gone."""
    options = options or DestroyOptions()
    loaded, providers, ref = for_branch(runtime, branch=options.branch, commit=options.commit)
    listener = progress or SilentProgress()
    session = _feedback(runtime, loaded, providers, options.feedback, options.pull_request, listener)
    return feedback_service.reported_destroy(
        session,
        loaded=loaded,
        ref=ref,
        destroy=lambda: destroy_service.destroy(
            loaded=loaded,
            providers=providers,
            ref=ref,
            progress=listener,
            allow_permanent=options.allow_permanent,
            timeout_seconds=options.timeout_seconds,
            skip=frozenset(options.skip),
        ),
    )


def _feedback(
    runtime: Runtime,
    loaded: LoadedConfig,
    providers: Providers,
    enabled: bool | None,
    pull_request: int | None,
    progress: ProgressListener,
) -> feedback_service.FeedbackSession | None:
    """The PR/MR feedback session: warnings go to the runtime's stderr, one line each."""

    def warn(line: str) -> None:
        print(line, file=runtime.stderr, flush=True)

    return feedback_service.open_session(
        loaded=loaded,
        environ=runtime.environ,
        clock=providers.clock,
        warn=warn,
        note=lambda text: progress.note(text=text),
        choice=feedback_service.FeedbackChoice(enabled=enabled, pull_request=pull_request),
        secret_store=lambda: providers.secret_store,
    )


def plan(*, runtime: Runtime, options: PlanOptions | None = None) -> PlanResult:
    """What a deploy would do, touching no cluster or cloud; renders the chart unless ``render`` is off."""
    options = options or PlanOptions()
    loaded, providers, ref = for_branch(runtime, branch=options.branch, commit=options.commit)
    return plan_service.plan(
        loaded=loaded,
        providers=providers,
        ref=ref,
        render=options.render,
        output_dir=options.output_dir,
        set_values=dict(options.set_values),
        read_secrets=options.read_secrets,
        check_cluster=options.check_cluster,
        author=deploy_service.author_of(
            environ=runtime.environ, git=providers.git, repo=loaded.root, commit=ref.commit
        )
        if options.check_cluster
        else "",
    )


def rollback(
    *,
    runtime: Runtime,
    options: RollbackOptions | None = None,
    progress: ProgressListener | None = None,
) -> RollbackReport:
    """Return the environment to its last good revision (or ``options.revision``)."""
    options = options or RollbackOptions()
    loaded, providers, ref = for_branch(runtime, branch=options.branch, commit=options.commit)
    return rollback_service.rollback(
        loaded=loaded,
        providers=providers,
        ref=ref,
        progress=progress or SilentProgress(),
        revision=options.revision,
        timeout_seconds=options.timeout_seconds,
        lock_wait_seconds=options.lock_wait_seconds,
    )


def status(*, runtime: Runtime, options: StatusOptions | None = None) -> EnvironmentStatus:
    """The branch's environment as the cluster records it; raises (exit 13) when it has none."""
    options = options or StatusOptions()
    loaded, providers, ref = for_branch(runtime, branch=options.branch, commit=options.commit)
    return status_service.status(loaded=loaded, providers=providers, ref=ref)


def list_environments(*, runtime: Runtime, options: ListOptions | None = None) -> list[EnvironmentRow]:
    """Environments DeployTag manages: the configured app's, or every app's with ``all_apps``."""
    options = options or ListOptions()
    _, loaded, providers = configured(runtime)
    return environments_service.list_environments(
        loaded=loaded, providers=providers, all_apps=options.all_apps
    )


def gc(
    *, runtime: Runtime, options: GcOptions | None = None, progress: ProgressListener | None = None
) -> GcReport:
    """Remove previews whose branch is gone, whose pull/merge request is closed or merged, or whose TTL
    passed; mark those about to expire. A failed removal is in the report (``exception`` set), not a
    raise; an unknown or unreachable remote raises before anything changes."""
    options = options or GcOptions()
    flags: dict[str, object] = {
        "gc.remote": options.remote,
        "gc.parallel": options.parallel,
        "gc.warn_hours": options.warn_hours,
        "ttl_hours": options.ttl_hours,
        "gc.sleep_after_hours": options.sleep_after_hours,
    }
    inv, loaded, providers = configured(runtime, {k: v for k, v in flags.items() if v is not None})
    cfg = loaded.config.gc
    request = gc_service.GcRequest(
        remote=cfg.remote,
        dry_run=options.dry_run,
        parallel=cfg.parallel,
        all_apps=options.all_apps,
        warn_hours=cfg.warn_hours,
        check_changes=cfg.check_changes,
        timeout_seconds=options.timeout_seconds,
        environ=inv.environ,
        sleep_after_hours=cfg.sleep_after_hours,
        force_finalize=options.force_finalize,
        orphans=options.orphan_sweep,
        actor=options.actor or actor_from(runtime.environ),
    )
    return gc_service.gc(
        loaded=loaded, providers=providers, request=request, progress=progress or SilentProgress()
    )


def pin(*, runtime: Runtime, options: PinOptions | None = None) -> PinReport:
    """Keep the branch's preview past its TTL: ``hours`` from now, ``until`` a time, or indefinitely."""
    options = options or PinOptions()
    if options.hours is not None and options.until is not None:
        raise ConfigError(
            "pass --hours or --until, not both", hint="--hours 48, or --until 2026-12-24T18:00Z"
        )
    now = runtime.clock.now()
    until: float | None = None
    if options.hours is not None:
        if not options.hours > 0:
            raise ConfigError(
                f"--hours {options.hours:g} is not a positive number of hours", hint="e.g. --hours 48"
            )
        until = now + options.hours * 3600
    elif options.until is not None:
        try:
            until = parse_until(options.until, now=now)
        except ValueError as e:
            raise ConfigError(
                f"--until {e}", hint="give a future time, e.g. --until 2026-12-24T18:00:00Z"
            ) from e
    loaded, providers, ref = for_branch(runtime, branch=options.branch, commit=options.commit)
    return pins_service.pin(loaded=loaded, providers=providers, ref=ref, until=until)


def unpin(*, runtime: Runtime, options: UnpinOptions | None = None) -> PinReport:
    """End the branch's pin: its preview expires by TTL again."""
    options = options or UnpinOptions()
    loaded, providers, ref = for_branch(runtime, branch=options.branch, commit=options.commit)
    return pins_service.unpin(loaded=loaded, providers=providers, ref=ref)


def init(*, runtime: Runtime, options: InitOptions | None = None) -> InitReport:
    """Write deploytag.yaml (and with ``ci`` a workflow) for the repository, from what it holds.

    Files that exist are skipped unless ``force``; a repository without a chart raises
    ``ChartError`` and nothing is written. Touches no cluster or cloud.
    """
    options = options or InitOptions()
    return init_service.init(
        repo=runtime.repo,
        options=init_service.InitOptions(
            ci=options.ci, force=options.force, dry_run=options.dry_run, app=options.app
        ),
    )
