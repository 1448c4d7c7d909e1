"""`gc`, `pin` and `unpin` in the public API: reconcile the environments with the branches that
still exist, and hold a preview back from its TTL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deploytag.api.options import GcOptions, PinOptions, UnpinOptions
from deploytag.api.runtime import Runtime
from deploytag.core.errors import ConfigError
from deploytag.core.identity import actor as actor_from
from deploytag.core.timestamps import parse_until
from deploytag.ports.progress import ProgressListener, SilentProgress

if TYPE_CHECKING:
    from deploytag.core.config import LoadedConfig
    from deploytag.ports.providers import Providers
    from deploytag.service.gc import GcReport
    from deploytag.service.pins import PinReport

# Each call imports its service when it runs, as in api.calls.


def gc(
    *, runtime: Runtime, options: GcOptions | None = None, progress: ProgressListener | None = None
) -> GcReport:
    """Remove previews whose branch is gone, whose pull/merge request is closed or merged, or whose TTL
    passed; mark those about to expire. A failed removal is in the report (``exception`` set), not a
    raise; an unknown or unreachable remote raises before anything changes."""
    from deploytag.api.session import configured
    from deploytag.service import gc as gc_service

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
    report = gc_service.gc(
        loaded=loaded, providers=providers, request=request, progress=progress or SilentProgress()
    )
    if not options.dry_run:
        _warn_expiring(runtime, loaded, providers, report)
    return report


def _warn_expiring(runtime: Runtime, loaded: LoadedConfig, providers: Providers, report: GcReport) -> None:
    """Post the expiring-soon comment on each newly marked preview's pull/merge request, once: a
    preview an earlier gc already marked is not warned again. Feedback never fails gc."""
    from deploytag.core.timestamps import parse_rfc3339
    from deploytag.service.feedback import notify_expiring
    from deploytag.service.feedback_body import ExpiringNotice

    notices = []
    for item in report.expiring:
        expires_at = parse_rfc3339(item.get("expires_at"))
        if not item.get("newly_marked") or expires_at is None or item.get("app") != loaded.config.app:
            continue  # other apps' previews belong to other repositories' requests
        notices.append(
            ExpiringNotice(
                app=str(item["app"]),
                branch=str(item["branch"]),
                expires_at=expires_at,
                namespace=item.get("namespace"),
                urls=tuple(item.get("urls") or ()),
                reason=f"no deploy for {loaded.config.ttl_hours:g} hours (ttl_hours)"
                if loaded.config.ttl_hours
                else "its time to live ends",
            )
        )
    if not notices:
        return

    def warn(line: str) -> None:
        print(line, file=runtime.stderr, flush=True)

    notify_expiring(
        loaded=loaded,
        environ=runtime.environ,
        clock=providers.clock,
        warn=warn,
        notices=notices,
        secret_store=lambda: providers.secret_store,
    )


def pin(*, runtime: Runtime, options: PinOptions | None = None) -> PinReport:
    """Keep the branch's preview past its TTL: ``hours`` from now, ``until`` a time, or indefinitely."""
    from deploytag.api.session import for_branch
    from deploytag.service import pins as pins_service

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
    from deploytag.api.session import for_branch
    from deploytag.service import pins as pins_service

    options = options or UnpinOptions()
    loaded, providers, ref = for_branch(runtime, branch=options.branch, commit=options.commit)
    return pins_service.unpin(loaded=loaded, providers=providers, ref=ref)
