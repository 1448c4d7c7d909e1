"""Commands over many environments: gc, and pin/unpin that hold a preview back from it."""

from __future__ import annotations

import click

import deploytag.cli.output as output
from deploytag.cli.options import branch_options, output_option
from deploytag.cli.state import CliState, pass_state

HOURS = click.FloatRange(min=0, min_open=True)


def register(cli: click.Group) -> None:
    @cli.command()
    @output_option
    @click.option("--dry-run", is_flag=True, help="Show what would go and why; change nothing.")
    @click.option(
        "--remote",
        metavar="NAME",
        help="Git remote whose branches are alive (default: gc.remote, origin).",
    )
    @click.option(
        "--parallel",
        type=click.IntRange(min=1, max=32),
        metavar="N",
        help="Environments removed at once (default: gc.parallel, 4).",
    )
    @click.option(
        "--all-apps",
        is_flag=True,
        help="Every app's previews in the cluster (other apps' by TTL only), not only this app's.",
    )
    @click.option(
        "--warn-hours",
        type=HOURS,
        metavar="H",
        help="Mark previews that expire within H hours (deploytag.dev/expiring) for PR feedback to warn.",
    )
    @click.option(
        "--ttl-hours",
        type=HOURS,
        metavar="H",
        help="Hours after the last deploy a preview expires, for this run (default: ttl_hours).",
    )
    @click.option(
        "--timeout",
        type=click.IntRange(min=1),
        default=300,
        show_default=True,
        metavar="SECONDS",
        help="How long each removal waits for its namespace to be gone.",
    )
    @click.option(
        "--sleep-after-hours",
        type=HOURS,
        metavar="H",
        help="Put previews idle for H hours to sleep (scaled to zero; pinned ones stay awake).",
    )
    @click.option(
        "--force-finalize",
        is_flag=True,
        help="Clear the finalizers holding namespaces stuck terminating (recorded with who and why).",
    )
    @click.option(
        "--no-orphan-sweep",
        is_flag=True,
        help="Skip the orphan sweep (DNS records, databases, leases, image tags no environment owns).",
    )
    @pass_state
    def gc(
        state: CliState,
        fmt: str,
        dry_run: bool,
        remote: str | None,
        parallel: int | None,
        all_apps: bool,
        warn_hours: float | None,
        ttl_hours: float | None,
        timeout: int,
        sleep_after_hours: float | None,
        force_finalize: bool,
        no_orphan_sweep: bool,
    ) -> None:
        """Remove previews whose branch is gone from the remote, whose pull/merge request was closed or
        merged (with a GitHub or GitLab token), or that were idle past ttl_hours and are not pinned.
        Permanent environments are never removed. Also sweeps orphans, reports namespaces stuck
        terminating and puts idle previews to sleep on request. Exits non-zero if anything failed."""
        from deploytag import api

        options = api.GcOptions(
            remote=remote,
            dry_run=dry_run,
            parallel=parallel,
            all_apps=all_apps,
            warn_hours=warn_hours,
            ttl_hours=ttl_hours,
            timeout_seconds=timeout,
            sleep_after_hours=sleep_after_hours,
            force_finalize=force_finalize,
            orphan_sweep=not no_orphan_sweep,
        )
        with output.progress(enabled=not dry_run) as listener:
            report = api.gc(runtime=state.runtime(), options=options, progress=listener)
        output.finish(report, fmt, output.gc_text)

    @cli.command()
    @branch_options
    @output_option
    @click.option("--hours", type=HOURS, metavar="N", help="Pin for N hours from now.")
    @click.option(
        "--until",
        metavar="TIME",
        help="Pin until TIME (RFC 3339, e.g. 2026-12-24T18:00:00Z; UTC when no offset is given).",
    )
    @pass_state
    def pin(
        state: CliState,
        branch: str | None,
        commit: str | None,
        fmt: str,
        hours: float | None,
        until: str | None,
    ) -> None:
        """Keep this branch's preview past its TTL: for --hours N, --until TIME, or (with neither)
        until `deploytag unpin`. gc still removes it when its branch is gone or its PR is closed."""
        from deploytag import api

        options = api.PinOptions(branch=branch, commit=commit, hours=hours, until=until)
        report = api.pin(runtime=state.runtime(), options=options)
        _pin_out(report, fmt)

    @cli.command()
    @branch_options
    @output_option
    @pass_state
    def unpin(state: CliState, branch: str | None, commit: str | None, fmt: str) -> None:
        """End this branch's pin: its preview expires by ttl_hours again."""
        from deploytag import api

        report = api.unpin(runtime=state.runtime(), options=api.UnpinOptions(branch=branch, commit=commit))
        _pin_out(report, fmt)


def _pin_out(report: object, fmt: str) -> None:
    if fmt == "json":
        output.emit_json(report.to_dict())  # type: ignore[attr-defined]
    else:
        output.pin_text(report)
