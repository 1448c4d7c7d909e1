"""Commands that need no cluster: plan, config, values, render, lint."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

import deploytag.cli.output as output
from deploytag.cli.options import branch_options, output_option, set_option
from deploytag.cli.state import CliState, parse_set, pass_state
from deploytag.core.errors import ExitStatus


def register(cli: click.Group) -> None:
    @cli.command()
    @branch_options
    @output_option
    @set_option
    @click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Directory for the rendered manifests (default: REPO/.deploytag/rendered).",
    )
    @click.option("--no-render", is_flag=True, help="Only derive names; do not run helm.")
    @click.option(
        "--read-secrets",
        is_flag=True,
        help="Also list secret key names from a cloud store (values are never shown).",
    )
    @click.option(
        "--check-cluster",
        is_flag=True,
        help="Also read the cluster and refuse as deploy would: names of another branch's "
        "environment (exit 18), a new preview over limits.* (exit 19).",
    )
    @pass_state
    def plan(
        state: CliState,
        branch: str | None,
        commit: str | None,
        fmt: str,
        set_values: tuple[str, ...],
        out_dir: Path | None,
        no_render: bool,
        read_secrets: bool,
        check_cluster: bool,
    ) -> None:
        """Show what a deploy of this branch would do, without touching a cluster or cloud.

        Derives every name (namespace, release, database, DNS records, image tags),
        lists the values layers and secret key names, renders the chart with the
        real helm into a directory and lints the manifests.
        """
        from deploytag import api

        options = api.PlanOptions(
            branch=branch,
            commit=commit,
            set_values=parse_set(set_values),
            render=not no_render,
            output_dir=out_dir,
            read_secrets=read_secrets,
            check_cluster=check_cluster,
        )
        result = api.plan(runtime=state.runtime(), options=options)
        _render(result.to_dict(), fmt, lambda: output.plan_text(result.to_dict()))
        if any(f["severity"] == "error" for f in result.findings):
            click.get_current_context().exit(int(ExitStatus.LINT))

    @cli.command()
    @click.option("--explain", is_flag=True, help="Show where each value came from.")
    @output_option
    @pass_state
    def config(state: CliState, explain: bool, fmt: str) -> None:
        """Print the effective configuration (flag > DEPLOYTAG_* env > deploytag.yaml > default)."""
        from deploytag import api

        rows = api.effective_config(runtime=state.runtime())
        _render({"settings": rows}, fmt, lambda: output.config_text(rows, explain=explain))

    @cli.command()
    @click.option("--explain", is_flag=True, help="Show each key's source layer and what it overrode.")
    @branch_options
    @output_option
    @set_option
    @pass_state
    def values(
        state: CliState,
        explain: bool,
        branch: str | None,
        commit: str | None,
        fmt: str,
        set_values: tuple[str, ...],
    ) -> None:
        """Print the merged Helm values this branch's release gets.

        Layers, lowest first: the chart's values.yaml (and subcharts'), chart.values
        files, the environment's files, values DeployTag injects, then --set.
        """
        from deploytag import api

        options = api.ValuesOptions(branch=branch, commit=commit, set_values=parse_set(set_values))
        data = api.merged_values(runtime=state.runtime(), options=options)
        _render(data, fmt, lambda: output.values_text(data, explain=explain))

    @cli.command()
    @branch_options
    @set_option
    @click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Directory for the manifests (default: REPO/.deploytag/rendered).",
    )
    @output_option
    @pass_state
    def render(
        state: CliState,
        branch: str | None,
        commit: str | None,
        set_values: tuple[str, ...],
        out_dir: Path | None,
        fmt: str,
    ) -> None:
        """Render the chart with the real helm into one file per manifest."""
        from deploytag import api

        options = api.RenderOptions(
            branch=branch, commit=commit, set_values=parse_set(set_values), output_dir=out_dir
        )
        data = api.render(runtime=state.runtime(), options=options)
        _render(data, fmt, lambda: output.render_text(data))

    @cli.command()
    @branch_options
    @set_option
    @output_option
    @click.option("--list-rules", is_flag=True, help="List the rules with their default severity.")
    @pass_state
    def lint(
        state: CliState,
        branch: str | None,
        commit: str | None,
        set_values: tuple[str, ...],
        fmt: str,
        list_rules: bool,
    ) -> None:
        """Check the rendered manifests against production best practices.

        Exits with status 7 when a finding has severity error. Configure severities
        under lint.severity in deploytag.yaml (off, warn, error).
        """
        from deploytag import api

        if list_rules:
            rules = api.lint_rules()
            _render({"rules": rules}, fmt, lambda: output.rules_text(rules))
            return

        options = api.LintOptions(branch=branch, commit=commit, set_values=parse_set(set_values))
        data = api.lint(runtime=state.runtime(), options=options)
        _render(data, fmt, lambda: output.findings_text(data["findings"]))
        if any(f["severity"] == "error" for f in data["findings"]):
            click.get_current_context().exit(int(ExitStatus.LINT))


def _render(data: dict[str, Any], fmt: str, text: Callable[[], None]) -> None:
    if fmt == "json":
        output.emit_json(data)
    else:
        text()
