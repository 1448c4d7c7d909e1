"""`deploytag dns`: point the branch's DNS names at its load balancer (or delete them)."""

from __future__ import annotations

import click

import deploytag.cli.output as output
from deploytag.cli.options import branch_options, output_option
from deploytag.cli.state import CliState, pass_state


def register(cli: click.Group) -> None:
    @cli.command()
    @branch_options
    @output_option
    @click.option(
        "--record",
        "records",
        multiple=True,
        metavar="TEMPLATE",
        help="Record name template, e.g. '{.Branch}-guest-server-frontend-aws'. Repeatable; "
        "replaces dns.records.",
    )
    @click.option(
        "--provider", help="DNS provider: cloudflare, route53, rfc2136, powerdns (default: dns.provider)."
    )
    @click.option("--zone", help="Zone the records are in, e.g. example.com (default: dns.zone).")
    @click.option(
        "--cloudflare-zone-id",
        "zone_id",
        metavar="ZONE_ID",
        help="Cloudflare zone id; implies --provider cloudflare. The zone's name is looked up.",
    )
    @click.option(
        "--target",
        metavar="HOST_OR_IP",
        help="Point the records here instead of discovering the load balancer's address.",
    )
    @click.option(
        "--delete", is_flag=True, help="Delete the branch's records (only those DeployTag created)."
    )
    @click.option(
        "--dry-run", is_flag=True, help="Check zone and ownership and show what would change; write nothing."
    )
    @pass_state
    def dns(
        state: CliState,
        branch: str | None,
        commit: str | None,
        fmt: str,
        records: tuple[str, ...],
        provider: str | None,
        zone: str | None,
        zone_id: str | None,
        target: str | None,
        delete: bool,
        dry_run: bool,
    ) -> None:
        """Create or update this branch's DNS records, owned by DeployTag (a TXT record beside each).

        CNAME to a load balancer hostname, A/AAAA to its IPs. Records DeployTag did not
        create are never changed or deleted. The Cloudflare token is CLOUDFLARE_API_TOKEN
        in the secret named by --cloud-aws-secret-id, or in the environment.
        """
        from deploytag import api

        options = api.DnsOptions(
            branch=branch,
            commit=commit,
            records=records,
            # --cloudflare-zone-id names its provider: the one CLI flag that does.
            provider=provider or ("cloudflare" if zone_id else None),
            zone=zone,
            zone_id=zone_id,
            target=target,
            delete=delete,
            dry_run=dry_run,
        )
        with output.progress(enabled=True) as listener:
            report = api.dns(runtime=state.runtime(), options=options, progress=listener)
        if fmt == "json":
            output.emit_json(report.to_dict())
        else:
            for r in report.records:
                values = ", ".join(r["values"])
                click.echo(f"{r['name']}  {r['type']}  {values}  {r['action']}".replace("    ", "  "))
            if report.outcome != "failed":
                click.echo(f"dns {report.outcome} ({report.provider} zone {report.zone})")
        if report.exception is not None:
            output.error_line(report.error)
            click.get_current_context().exit(int(report.exception.exit_status))
