"""`sleep` and `wake`: scale a branch's environment to zero and back (DNS and database stay)."""

from __future__ import annotations

from typing import Any

import click

import deploytag.cli.output as output
from deploytag.cli.options import branch_options, output_option
from deploytag.cli.state import CliState, pass_state


def register(cli: click.Group) -> None:
    @cli.command()
    @branch_options
    @output_option
    @pass_state
    def sleep(state: CliState, branch: str | None, commit: str | None, fmt: str) -> None:
        """Scale this branch's Deployments and StatefulSets to zero, recording their replicas on the
        namespace; DNS, the database and secrets stay. Sleeping twice keeps the original replicas."""
        from deploytag import api

        result = api.sleep(runtime=state.runtime(), options=api.SleepOptions(branch=branch, commit=commit))
        _show(result, fmt)

    @cli.command()
    @branch_options
    @output_option
    @pass_state
    def wake(state: CliState, branch: str | None, commit: str | None, fmt: str) -> None:
        """Scale this branch's workloads back to the replicas `sleep` recorded; nothing to do when awake."""
        from deploytag import api

        result = api.wake(runtime=state.runtime(), options=api.WakeOptions(branch=branch, commit=commit))
        _show(result, fmt)


def _show(result: Any, fmt: str) -> None:
    if fmt == "json":
        output.emit_json(result.to_dict())
        return
    for w in result.workloads:
        click.echo(f"{w.kind.lower()} {w.name}: {w.before} -> {w.after} replicas")
    if result.action == "sleep":
        state = "already asleep" if result.outcome == "unchanged" else "asleep"
        click.echo(f"{result.namespace}: {state} since {result.since}")
    else:
        state = "already awake" if result.outcome == "unchanged" else "awake"
        click.echo(f"{result.namespace}: {state}")
