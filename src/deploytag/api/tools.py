"""The API's calls behind `deploytag config`, `values`, `render`, `lint`, `build` and `dns`.

Like ``calls``, each takes a Runtime and a frozen options record, imports its service
when it runs, and returns what the CLI prints with ``--output json``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deploytag.api.options import BuildOptions, DnsOptions, LintOptions, RenderOptions, ValuesOptions
from deploytag.api.runtime import Runtime
from deploytag.ports.progress import ProgressListener, SilentProgress

if TYPE_CHECKING:
    from deploytag.service.build import BuildReport
    from deploytag.service.dns import DnsReport


def effective_config(*, runtime: Runtime) -> list[dict[str, Any]]:
    """Every leaf setting with its value and where it came from (flag, environment, file, default)."""
    from deploytag.api.session import invocation
    from deploytag.service.inspect import explain_config

    return explain_config(invocation(runtime))


def merged_values(*, runtime: Runtime, options: ValuesOptions | None = None) -> dict[str, Any]:
    """The Helm values the branch's release gets, each key with its source layer."""
    from deploytag.api.session import for_branch
    from deploytag.service.inspect import explain_values

    options = options or ValuesOptions()
    loaded, _, ref = for_branch(runtime, branch=options.branch, commit=options.commit)
    return explain_values(loaded=loaded, ref=ref, set_values=dict(options.set_values))


def render(*, runtime: Runtime, options: RenderOptions | None = None) -> dict[str, Any]:
    """Render the chart with the real helm into one file per manifest."""
    from deploytag.api.session import for_branch
    from deploytag.service.inspect import render_manifests

    options = options or RenderOptions()
    loaded, providers, ref = for_branch(runtime, branch=options.branch, commit=options.commit)
    return render_manifests(
        loaded=loaded,
        providers=providers,
        ref=ref,
        output_dir=options.output_dir,
        set_values=dict(options.set_values),
    )


def lint(*, runtime: Runtime, options: LintOptions | None = None) -> dict[str, Any]:
    """Render and check the manifests; ``findings`` with severity error fail the CLI (exit 7)."""
    from deploytag.api.session import for_branch
    from deploytag.service.inspect import lint_branch

    options = options or LintOptions()
    loaded, providers, ref = for_branch(runtime, branch=options.branch, commit=options.commit)
    return lint_branch(loaded=loaded, providers=providers, ref=ref, set_values=dict(options.set_values))


def lint_rules() -> list[dict[str, str]]:
    """The lint rules with their default severity; needs no configuration."""
    from deploytag.service.inspect import rules_table

    return rules_table()


def build(
    *, runtime: Runtime, options: BuildOptions | None = None, progress: ProgressListener | None = None
) -> BuildReport:
    """Build and push the branch's images. A failed build is a report with ``exception`` set."""
    from deploytag.api.session import for_branch
    from deploytag.service.build import build as run_build

    options = options or BuildOptions()
    loaded, providers, ref = for_branch(runtime, branch=options.branch, commit=options.commit)
    return run_build(loaded=loaded, providers=providers, ref=ref, progress=progress or SilentProgress())


def dns(
    *, runtime: Runtime, options: DnsOptions | None = None, progress: ProgressListener | None = None
) -> DnsReport:
    """Point the branch's DNS names at its load balancer, or delete them (only ours)."""
    from deploytag.api.session import for_branch
    from deploytag.service.dns import sync_dns

    options = options or DnsOptions()
    flags: dict[str, object] = {
        "dns.records": list(options.records) or None,
        "dns.provider": options.provider,
        "dns.zone": options.zone,
        "dns.zone_id": options.zone_id,
        "dns.target.address": options.target,
    }
    loaded, providers, ref = for_branch(
        runtime,
        branch=options.branch,
        commit=options.commit,
        extra_flags={k: v for k, v in flags.items() if v is not None},
    )
    return sync_dns(
        loaded=loaded,
        providers=providers,
        ref=ref,
        progress=progress or SilentProgress(),
        delete=options.delete,
        dry_run=options.dry_run,
    )
