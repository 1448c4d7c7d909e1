"""The API's calls: each loads the configuration, builds providers, resolves the branch and runs
one service function, returning its typed result (the records the CLI prints as JSON)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deploytag.api.options import (
    DeployOptions,
    DestroyOptions,
    InitOptions,
    ListOptions,
    PlanOptions,
    RollbackOptions,
    StatusOptions,
)
from deploytag.api.runtime import Runtime
from deploytag.ports.progress import ProgressListener, SilentProgress

if TYPE_CHECKING:
    from deploytag.core.config import LoadedConfig
    from deploytag.ports.providers import Providers
    from deploytag.service.deploy import DeployReport
    from deploytag.service.destroy import DestroyReport
    from deploytag.service.environments import EnvironmentRow
    from deploytag.service.feedback import FeedbackSession
    from deploytag.service.init import InitReport
    from deploytag.service.plan import PlanResult
    from deploytag.service.rollback import RollbackReport
    from deploytag.service.status import EnvironmentStatus

# Each call imports its service (and the configuration loader, through the session) when it
# runs: `deploytag plan` imports no deploy machinery, `deploytag --help` none of this.


def deploy(
    *, runtime: Runtime, options: DeployOptions | None = None, progress: ProgressListener | None = None
) -> DeployReport:
    """Deploy the branch. A failed run is a report with ``exception`` set, not a raise."""
    from deploytag.api.session import for_branch
    from deploytag.service import deploy as deploy_service
    from deploytag.service import feedback as feedback_service

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
        author=deploy_service.lazy_author(
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
    from deploytag.api.session import for_branch
    from deploytag.service import destroy as destroy_service
    from deploytag.service import feedback as feedback_service

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
) -> FeedbackSession | None:
    """The PR/MR feedback session: warnings go to the runtime's stderr, one line each."""
    from deploytag.service import feedback as feedback_service

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
    from deploytag.api.session import for_branch
    from deploytag.service import plan as plan_service

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
        author=_author(runtime, loaded, providers, ref.commit) if options.check_cluster else "",
    )


def rollback(
    *,
    runtime: Runtime,
    options: RollbackOptions | None = None,
    progress: ProgressListener | None = None,
) -> RollbackReport:
    """Return the environment to its last good revision (or ``options.revision``)."""
    from deploytag.api.session import for_branch
    from deploytag.service import rollback as rollback_service

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
    from deploytag.api.session import for_branch
    from deploytag.service import status as status_service

    options = options or StatusOptions()
    loaded, providers, ref = for_branch(runtime, branch=options.branch, commit=options.commit)
    return status_service.status(loaded=loaded, providers=providers, ref=ref)


def list_environments(*, runtime: Runtime, options: ListOptions | None = None) -> list[EnvironmentRow]:
    """Environments DeployTag manages: the configured app's, or every app's with ``all_apps``."""
    from deploytag.api.session import configured
    from deploytag.service import environments as environments_service

    options = options or ListOptions()
    _, loaded, providers = configured(runtime)
    return environments_service.list_environments(
        loaded=loaded, providers=providers, all_apps=options.all_apps
    )


def init(*, runtime: Runtime, options: InitOptions | None = None) -> InitReport:
    """Write deploytag.yaml (and with ``ci`` a workflow) for the repository, from what it holds.

    Files that exist are skipped unless ``force``; a repository without a chart raises
    ``ChartError`` and nothing is written. Touches no cluster or cloud.
    """
    from deploytag.service import init as init_service

    options = options or InitOptions()
    return init_service.init(
        repo=runtime.repo,
        options=init_service.InitOptions(
            ci=options.ci, force=options.force, dry_run=options.dry_run, app=options.app
        ),
    )


def _author(runtime: Runtime, loaded: LoadedConfig, providers: Providers, commit: str) -> str:
    from deploytag.service.deploy import author_of  # only for plan --check-cluster

    return author_of(environ=runtime.environ, git=providers.git, repo=loaded.root, commit=commit)
