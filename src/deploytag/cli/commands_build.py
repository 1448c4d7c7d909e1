"""`deploytag build`: base image by content hash, app image pushed and pinned by digest."""

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
    def build(state: CliState, branch: str | None, commit: str | None, fmt: str) -> None:
        """Build and push this branch's images: the base only when its content hash is new.

        The base image's tag is a hash of Dockerfile.base, its build args and the files
        it copies; the registry is asked whether it exists. The app image is built FROM
        it and pushed under the commit tag, the branch tag (and latest for
        build.latest_branch); the report shows the pushed digests.
        """
        from deploytag import api

        options = api.BuildOptions(branch=branch, commit=commit)
        with output.progress(enabled=True) as listener:
            report = api.build(runtime=state.runtime(), options=options, progress=listener)
        if fmt == "json":
            output.emit_json(report.to_dict())
        else:
            build_text(report.to_dict())
        if report.exception is not None:
            output.error_line(report.error)
            click.get_current_context().exit(int(report.exception.exit_status))


def build_text(report: dict[str, Any]) -> None:
    if report["outcome"] == "skipped":
        click.echo(f"skip: {report['error']}")
        return
    for image in report["images"]:
        if image["base"]:
            click.echo(f"base  {image['base']} ({image['base_decision']})")
        pinned = f"@{image['digest']}" if image["digest"] else ""
        click.echo(f"image {image['repository']}:{image['tags'][0]}{pinned} ({image['decision']})")
        click.echo(f"      tags: {', '.join(image['tags'])}")
