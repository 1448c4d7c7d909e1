"""What gc does beyond removing environments, with the fleet's service functions: idle previews
put to sleep (``service.sleep``), namespaces stuck terminating reported and, on request,
force-finalized (``service.orphans``), and the orphan sweep (``service.orphans``).

Each records its own outcome in the report; a failure is a ``problem`` (gc exits non-zero)
and never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig
from deploytag.core.errors import DeployTagError
from deploytag.core.timestamps import parse_rfc3339
from deploytag.ports.providers import Providers
from deploytag.service.expiry import HOUR
from deploytag.service.gcplan import Verdict
from deploytag.service.orphans import find_orphans, force_finalize, remove_orphans, stuck_namespaces
from deploytag.service.sleep import sleep_environment, sleep_record

if TYPE_CHECKING:
    from deploytag.service.gc import GcEntry, GcReport, GcRequest

log = logging.getLogger(__name__)

# A namespace the controller empties normally goes within seconds; terminating for this long, it is
# stuck (a finalizer nobody removes). One gc itself just failed to remove counts at once: gc waited.
STUCK_AFTER_SECONDS = 300.0


def sleep_idle(
    verdicts: list[Verdict],
    entries: dict[str, GcEntry],
    *,
    config_for: Callable[[Verdict], LoadedConfig],
    providers: Providers,
    request: GcRequest,
    report: GcReport,
) -> None:
    """Previews kept, awake, not pinned and idle past ``sleep_after_hours`` go to sleep."""
    hours = request.sleep_after_hours
    if hours is None:
        return
    now = providers.clock.now()
    for v in verdicts:
        last = v.expiry.last_deploy
        if v.reason or v.kind != "preview" or last is None or now - last < hours * HOUR:
            continue
        if (
            v.namespace.phase == "Terminating"
            or v.expiry.pinned(now)
            or sleep_record(v.namespace.annotations)
        ):
            continue  # going, pinned (someone wants it as it is) or already asleep
        entry = entries[v.namespace.name]
        if request.dry_run:
            entry.sleep = "would-sleep"
            continue
        try:
            sleep_environment(
                loaded=config_for(v),
                providers=providers,
                ref=BranchRef(branch=v.branch, commit="", source="gc"),
                actor=request.actor,
            )
            entry.sleep = "slept"
        except DeployTagError as e:
            entry.sleep, entry.error = "failed", f"sleep: {e}"
            report.problems.append(f"{v.namespace.name}: could not sleep: {e}")


def stuck_and_finalize(
    entries: dict[str, GcEntry],
    *,
    loaded: LoadedConfig,
    providers: Providers,
    request: GcRequest,
    report: GcReport,
    retry: Callable[[str], None],
) -> None:
    """Report stuck namespaces in scope; with ``force_finalize`` clear what holds them, then let
    ``retry`` run the removal of those gc was removing again, for a verified teardown."""
    failed_now = {name for name, e in entries.items() if e.outcome == "failed"}
    now = providers.clock.now()
    try:
        terminating = stuck_namespaces(loaded=loaded, providers=providers)
    except DeployTagError as e:
        report.problems.append(f"stuck namespaces not checked: {e}")
        return
    stuck = []
    for s in terminating:
        if not request.all_apps and s.app != loaded.config.app:
            continue
        since = parse_rfc3339(s.deleting_since)
        if s.namespace in failed_now or since is None or now - since >= STUCK_AFTER_SECONDS:
            stuck.append(s)
    report.stuck = [s.to_dict() for s in stuck]
    if not request.force_finalize or request.dry_run:
        return
    for s in stuck:
        reason = f"deploytag gc --force-finalize: terminating since {s.deleting_since or 'unknown'}"
        try:
            result = force_finalize(
                loaded=loaded, providers=providers, namespace=s.namespace, actor=request.actor, reason=reason
            )
        except DeployTagError as e:
            report.problems.append(f"{s.namespace}: could not force-finalize: {e}")
            continue
        report.force_finalized.append(result.to_dict())
        if not result.gone:
            report.problems.append(f"{s.namespace}: still present after force-finalize")
        elif s.namespace in failed_now:
            retry(s.namespace)


def sweep_orphans(
    *, loaded: LoadedConfig, providers: Providers, request: GcRequest, report: GcReport
) -> None:
    """The fleet's orphan sweep: found always, removed unless a dry run."""
    if not request.orphans:
        return
    skipped: list[str] = []  # kinds this run cannot read (no admin URL, no token): said, not failed
    try:
        found = find_orphans(loaded=loaded, providers=providers, skipped=skipped)
    except DeployTagError as e:
        report.problems.append(f"orphan sweep: {e}")
        return
    report.warnings += [f"orphan sweep skipped {line}" for line in skipped]
    results = remove_orphans(loaded=loaded, providers=providers, orphans=found, dry_run=request.dry_run)
    report.orphans = [r.to_dict() for r in results]
    for r in results:
        if r.error:
            report.problems.append(f"orphan {r.orphan.kind} {r.orphan.name} not removed: {r.error}")
