"""`deploytag init`: write deploytag.yaml (and a CI workflow) for the app repository."""

from __future__ import annotations

import click

import deploytag.cli.output as output
from deploytag.cli.options import output_option
from deploytag.cli.state import CliState, pass_state
from deploytag.core.errors import ExitStatus

_SAY = {
    "written": "wrote",
    "overwritten": "overwrote",
    "skipped": "skipped",
    "would-write": "would write",
    "would-overwrite": "would overwrite",
}


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option(
        "--ci",
        metavar="github|gitlab",
        help="Also write the CI workflow: .github/workflows/deploytag.yml or .gitlab-ci.yml.",
    )
    @click.option("--force", is_flag=True, help="Overwrite files that exist (never without it).")
    @click.option("--dry-run", is_flag=True, help="Show what would be written; write nothing.")
    @click.option(
        "--app",
        metavar="NAME",
        help="App name (default: the git remote's repository name, else the directory's).",
    )
    @output_option
    @pass_state
    def init(state: CliState, ci: str | None, force: bool, dry_run: bool, app: str | None, fmt: str) -> None:
        """Write a commented deploytag.yaml from what the repository holds.

        Finds the Helm chart (chart/, charts/*, helm/), values files, Dockerfiles and
        Dockerfile.base, the test command, migrations and the git remote. With --ci
        github or --ci gitlab also writes the workflow that deploys on push, destroys on
        branch delete or merge and runs gc on a schedule. Files that exist are skipped.
        """
        from deploytag import api

        options = api.InitOptions(ci=ci, force=force, dry_run=dry_run, app=app)
        report = api.init(runtime=state.runtime(), options=options)
        if fmt == "json":
            output.emit_json(report.to_dict())
        else:
            for what, found in report.detected():
                click.echo(f"{what:<16} {found}")
            for f in report.files:
                note = " (exists; --force overwrites it)" if f.action == "skipped" else ""
                click.echo(f"{_SAY[f.action]} {f.path}{note}")
            remote = report.facts.remote
            if report.ci is None and remote is not None and remote.ci is not None:
                click.echo(f"hint: deploytag init --ci {remote.ci} also writes the CI workflow (docs/ci.md)")
            if not report.refused and not dry_run:
                click.echo("next: deploytag plan --branch feature/try  (and add .deploytag/ to .gitignore)")
        if report.refused:
            existing = ", ".join(f.path for f in report.files)
            verb = "exists" if len(report.files) == 1 else "exist"
            output.error_line(f"nothing written: {existing} {verb} already; add --force to overwrite")
            click.get_current_context().exit(int(ExitStatus.CONFIG))
