"""Commands that act on a cluster: deploy, destroy, rollback, status, list."""

from __future__ import annotations

import click

import deploytag.cli.output as output
from deploytag.cli.options import branch_options, feedback_options, output_option, set_option
from deploytag.cli.state import CliState, parse_set, pass_state


def register(cli: click.Group) -> None:
    @cli.command()
    @branch_options
    @output_option
    @set_option
    @click.option(
        "--atomic",
        is_flag=True,
        help="If the deploy fails, roll back to the last good revision (the last one verified ready).",
    )
    @click.option(
        "--supersede",
        is_flag=True,
        help="Take the environment over from a run still in progress (newest push wins).",
    )
    @click.option(
        "--lock-wait",
        type=click.IntRange(min=0),
        metavar="SECONDS",
        help="How long to wait for another run of this branch (default: cluster.lock_wait_seconds).",
    )
    @click.option(
        "--timeout",
        type=click.IntRange(min=1),
        metavar="SECONDS",
        help="Rollout timeout (default: chart.timeout_seconds).",
    )
    @click.option("--skip-tests", is_flag=True, help="Do not run test.command before deploying.")
    @click.option("--adopt", is_flag=True, help="Take over an existing namespace not created by DeployTag.")
    @click.option("--force", is_flag=True, help="Run helm even when nothing changed.")
    @click.option(
        "--skip-build",
        is_flag=True,
        help="Do not build images; deploy the commit tag already in the registry.",
    )
    @click.option(
        "--rotate-database-password",
        is_flag=True,
        help="Give the branch database's role a new generated password (kept across deploys otherwise).",
    )
    @click.option(
        "--allow-older-commit",
        is_flag=True,
        help="Deploy even if the commit is older than the newest one deployed (a person's choice; "
        "without it such a run is skipped as superseded).",
    )
    @feedback_options
    @pass_state
    def deploy(
        state: CliState,
        branch: str | None,
        commit: str | None,
        fmt: str,
        set_values: tuple[str, ...],
        atomic: bool,
        supersede: bool,
        lock_wait: int | None,
        timeout: int | None,
        skip_tests: bool,
        adopt: bool,
        force: bool,
        skip_build: bool,
        rotate_database_password: bool,
        allow_older_commit: bool,
        feedback: bool | None,
        pull_request: int | None,
    ) -> None:
        """Deploy this branch into its own namespace: secrets, Helm release, verified rollout.

        Idempotent: a second run with nothing changed skips Helm. Progress goes to
        stderr; with --output json a summary for CI goes to stdout.
        """
        from deploytag import api

        options = api.DeployOptions(
            branch=branch,
            commit=commit,
            atomic=atomic,
            supersede=supersede,
            skip_tests=skip_tests,
            adopt=adopt,
            force=force,
            timeout_seconds=timeout,
            set_values=parse_set(set_values),
            lock_wait_seconds=lock_wait,
            skip_build=skip_build,
            rotate_database_password=rotate_database_password,
            allow_older_commit=allow_older_commit,
            feedback=feedback,
            pull_request=pull_request,
        )
        with output.progress(enabled=True) as listener:
            report = api.deploy(runtime=state.runtime(), options=options, progress=listener)
        output.finish(report, fmt, output.deploy_text)

    @cli.command()
    @branch_options
    @output_option
    @click.option("--allow-permanent", is_flag=True, help="Allow removing a permanent environment.")
    @click.option(
        "--timeout",
        type=click.IntRange(min=1),
        default=300,
        show_default=True,
        metavar="SECONDS",
        help="How long to wait for the namespace to be gone.",
    )
    @click.option(
        "--skip",
        "skip",
        multiple=True,
        # capabilities.preflight.SKIPPABLE; spelled out so `--help` imports no service module.
        type=click.Choice(["database", "dns"]),
        help="Leave this part behind on purpose (its server is gone, say) and report it. Repeatable.",
    )
    @feedback_options
    @pass_state
    def destroy(
        state: CliState,
        branch: str | None,
        commit: str | None,
        fmt: str,
        allow_permanent: bool,
        timeout: int,
        skip: tuple[str, ...],
        feedback: bool | None,
        pull_request: int | None,
    ) -> None:
        """Remove this branch's environment: DNS records, release, database, namespace, lease; report what is
        verified gone. Every provider a removal needs is checked first: nothing is removed when one is missing."""
        from deploytag import api

        options = api.DestroyOptions(
            branch=branch,
            commit=commit,
            allow_permanent=allow_permanent,
            timeout_seconds=timeout,
            skip=frozenset(skip),
            feedback=feedback,
            pull_request=pull_request,
        )
        with output.progress(enabled=True) as listener:
            report = api.destroy(runtime=state.runtime(), options=options, progress=listener)
        output.finish(report, fmt, output.destroy_text)

    @cli.command()
    @branch_options
    @output_option
    @click.option(
        "--revision",
        type=click.IntRange(min=1),
        metavar="N",
        help="Helm revision to restore (default: the last good one recorded on the environment).",
    )
    @click.option(
        "--lock-wait",
        type=click.IntRange(min=0),
        metavar="SECONDS",
        help="How long to wait for a run of this branch in progress (default: cluster.lock_wait_seconds).",
    )
    @click.option(
        "--timeout",
        type=click.IntRange(min=1),
        metavar="SECONDS",
        help="How long to wait for the restored revision to be ready (default: chart.timeout_seconds).",
    )
    @pass_state
    def rollback(
        state: CliState,
        branch: str | None,
        commit: str | None,
        fmt: str,
        revision: int | None,
        lock_wait: int | None,
        timeout: int | None,
    ) -> None:
        """Return this branch's environment to its last good revision (the last one a deploy verified
        ready, recorded on the namespace), or to --revision N. Failed revisions are never restored.
        Takes the environment's lease and records the outcome like deploy."""
        from deploytag import api

        options = api.RollbackOptions(
            branch=branch,
            commit=commit,
            revision=revision,
            timeout_seconds=timeout,
            lock_wait_seconds=lock_wait,
        )
        with output.progress(enabled=True) as listener:
            report = api.rollback(runtime=state.runtime(), options=options, progress=listener)
        output.finish(report, fmt, output.rollback_text)

    @cli.command()
    @branch_options
    @output_option
    @pass_state
    def status(state: CliState, branch: str | None, commit: str | None, fmt: str) -> None:
        """Show this branch's environment as the cluster records it: commit, outcome, last run, images,
        database, DNS records, URLs. Exits 13 when it has no environment."""
        from deploytag import api

        result = api.status(runtime=state.runtime(), options=api.StatusOptions(branch=branch, commit=commit))
        if fmt == "json":
            output.emit_json(result.to_dict())
        else:
            output.status_text(result)

    @cli.command(name="list")
    @output_option
    @click.option("--all-apps", is_flag=True, help="List every app's environments, not only this one's.")
    @pass_state
    def list_command(state: CliState, fmt: str, all_apps: bool) -> None:
        """List environments: namespaces labelled app.kubernetes.io/managed-by=deploytag."""
        from deploytag import api

        rows = api.list_environments(runtime=state.runtime(), options=api.ListOptions(all_apps=all_apps))
        if fmt == "json":
            output.emit_json({"environments": [r.to_dict() for r in rows]})
        else:
            output.environments_text(rows)
