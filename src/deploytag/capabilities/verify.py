"""Step 11: track the rollout to ready; on failure explain it in a digest.

The digest names the failing objects with their conditions and recent events,
pod reasons (ImagePullBackOff, CrashLoopBackOff, Pending with the scheduler's
reason) and the last log lines of failing containers, so nobody needs kubectl
to see why a deploy failed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from deploytag.capabilities.base import Capability, StepResult
from deploytag.capabilities.context import RunContext, annotation, dumps
from deploytag.capabilities.outputs import DnsUrls, EnvironmentUrls, ReleaseResult
from deploytag.capabilities.release import after_failure
from deploytag.core.errors import VerifyError
from deploytag.ports.cluster import ContainerState, Diagnostics, PodState, WorkloadState

# Waiting reasons that never resolve by themselves: fail at once rather than at the timeout.
FATAL_REASONS = frozenset(
    {"InvalidImageName", "CreateContainerConfigError", "ErrImageNeverPull", "CreateContainerError"}
)
POLL_SECONDS = 1.0
# A pod of the new revision restarted this often and waiting in back-off again will not come
# up by itself (kubelet back-off: 10 s, 20 s, 40 s, so about a minute in). Fewer would fail apps
# that crash once or twice while a dependency starts; waiting for --timeout only delays the why.
CRASH_LOOP_RESTARTS = 3
# The Deployment controller names the rollout's new ReplicaSet in the Progressing condition
# ('ReplicaSet "web-6c5bcc74f5" is progressing.', 'Created new replica set "web-6c5bcc74f5"').
_NEW_REPLICA_SET = re.compile(r'(?:ReplicaSet|replica set) "([^"]+)"')
LOG_LINES = 20


class VerifyStep(Capability):
    """The rollout tracked to ready, and the environment's URLs; nothing of its own to remove."""

    name = "verify"
    needs = (ReleaseResult, DnsUrls)
    provides = (EnvironmentUrls,)

    def ensure(self, *, ctx: RunContext) -> StepResult:
        if ctx.outputs.get(ReleaseResult).unchanged:
            return StepResult("skipped", "release unchanged", _record_urls(ctx))
        cluster = ctx.providers.cluster
        clock = ctx.providers.clock
        deadline = clock.monotonic() + ctx.timeout_seconds
        namespace = ctx.names.namespace
        window = ctx.loaded.config.cluster.verify_stable_seconds
        # Restart counts of the watched pods when the rollout first reported ready.
        baseline: dict[tuple[str, str], int] | None = None
        stable_at = 0.0
        while True:
            workloads = cluster.list_workloads(namespace=namespace)
            pending = [w for w in workloads if not w.rolled_out]
            if not pending and (window <= 0 or (baseline is not None and clock.monotonic() >= stable_at)):
                return StepResult("changed", f"{len(workloads)} workloads ready", _record_urls(ctx))
            pods = cluster.collect_diagnostics(namespace=namespace, log_lines=0).pods
            if baseline is not None:
                restarted = _restarted_since(baseline, pods)
                if restarted:
                    self._fail_restarted(ctx, restarted, window)
            if not pending and baseline is None:
                watched = [p for p in pods if p.unprobed_containers and p.phase == "Running"]
                if not watched:
                    return StepResult("changed", f"{len(workloads)} workloads ready", _record_urls(ctx))
                baseline = _restart_counts(watched)
                stable_at = clock.monotonic() + window
            fatal = (_fatal_pods(pods) + crash_looping(pods, pending)) if pending else []
            if fatal or (pending and clock.monotonic() >= deadline):
                self._fail(ctx, pending, fatal=fatal)
            # The release is applied: a newer commit waiting for the lease may take over from here.
            ctx.checkpoint()
            clock.sleep(POLL_SECONDS)

    def _fail(self, ctx: RunContext, pending: list[WorkloadState], *, fatal: list[PodState]) -> None:
        what = ", ".join(f"{w.kind.lower()}/{w.name}" for w in pending)
        if fatal:
            reason = "cannot start (" + "; ".join(_why(pod) for pod in fatal[:3]) + ")"
        else:
            reason = f"not ready after {ctx.timeout_seconds} s"
        self._raise(ctx, f"rollout of {what} {reason}")

    def _fail_restarted(self, ctx: RunContext, restarted: list[str], window: int) -> None:
        self._raise(
            ctx,
            f"{', '.join(restarted)} restarted within {window} s of the rollout reporting ready "
            "(a container without a readiness probe is Ready the moment it starts)",
        )

    def _raise(self, ctx: RunContext, message: str) -> None:
        diagnostics = ctx.providers.cluster.collect_diagnostics(
            namespace=ctx.names.namespace, log_lines=LOG_LINES
        )
        raise VerifyError(message, hint=after_failure(ctx, None), digest=format_digest(diagnostics))


def _restart_counts(pods: Sequence[PodState]) -> dict[tuple[str, str], int]:
    return {(p.name, c.name): c.restart_count for p in pods for c in p.containers}


def _restarted_since(baseline: dict[tuple[str, str], int], pods: Sequence[PodState]) -> list[str]:
    """Watched containers that restarted, or died and wait in back-off (the count grows only when
    the back-off ends, up to minutes later); pods that went away are not counted."""
    return [
        f"container {c.name} of pod/{p.name}"
        for p in pods
        for c in p.containers
        if (p.name, c.name) in baseline
        and (c.restart_count > baseline[(p.name, c.name)] or c.waiting_reason == "CrashLoopBackOff")
    ]


def _failed_before(c: ContainerState) -> bool:
    """Restarted after failing: a crash-looping container without a readiness probe is Ready
    for a moment after each start on a real kubelet, which must not hide why it keeps dying."""
    last = c.last_terminated_reason or c.terminated_reason
    return c.restart_count > 0 and last not in ("", "Completed")


def _fatal_pods(pods: Sequence[PodState]) -> list[PodState]:
    out = []
    for pod in pods:
        if any(c.waiting_reason in FATAL_REASONS for c in pod.containers):
            out.append(pod)
    return out


def _why(pod: PodState) -> str:
    for c in pod.containers:
        if c.waiting_reason in FATAL_REASONS or c.waiting_reason == "CrashLoopBackOff":
            restarts = f" after {c.restart_count} restarts" if c.restart_count else ""
            return f"pod/{pod.name}: container {c.name} {c.waiting_reason}{restarts}"
        if _looping(c):  # between crashes the kubelet may still report the dead run, not back-off
            code = f", exit code {c.exit_code}" if c.exit_code is not None else ""
            return (
                f"pod/{pod.name}: container {c.name} CrashLoopBackOff after {c.restart_count} restarts "
                f"({c.terminated_reason}{code})"
            )
    return f"pod/{pod.name}"


def crash_looping(pods: Sequence[PodState], pending: Sequence[WorkloadState]) -> list[PodState]:
    """Pods of a pending Deployment's new ReplicaSet in a crash loop. Old revisions' pods are
    left out: a rollout that fixes a crash loop starts with the old pods still crashing."""
    new_owners = {
        f"ReplicaSet/{m.group(1)}"
        for w in pending
        if w.kind == "Deployment"
        for m in [_NEW_REPLICA_SET.search(w.conditions.get("Progressing", ""))]
        if m
    }
    return [pod for pod in pods if pod.owner in new_owners and any(_looping(c) for c in pod.containers)]


def _looping(c: ContainerState) -> bool:
    """Failed CRASH_LOOP_RESTARTS times and down now: waiting in back-off, or terminated with an
    error and not yet put into back-off (a real kubelet reports that for much of the back-off)."""
    if c.restart_count < CRASH_LOOP_RESTARTS or c.running:
        return False
    if c.waiting_reason:
        return c.waiting_reason == "CrashLoopBackOff"
    return c.terminated_reason not in ("", "Completed")


def _record_urls(ctx: RunContext) -> dict[str, str | None]:
    urls: list[str] = list(ctx.outputs.get(DnsUrls).urls)  # the dns step's names first: people open them
    for service in ctx.providers.cluster.list_services(namespace=ctx.names.namespace):
        if service.type != "LoadBalancer":
            continue
        for host in service.hostnames:
            port = service.ports[0] if service.ports else 80
            urls.append(f"http://{host}" + ("" if port == 80 else f":{port}"))
    ctx.outputs.put(EnvironmentUrls(tuple(urls)))
    return {annotation("urls"): dumps(urls)}


def format_digest(d: Diagnostics) -> str:
    """Plain text, one failing object per block; no secrets (only states, events, logs)."""
    lines: list[str] = []
    for w in d.workloads:
        if w.rolled_out:
            continue
        lines.append(f"{w.kind.lower()}/{w.name}: {w.ready}/{w.desired} ready, {w.updated} updated")
        lines.extend(f"  condition {kind}: {text}" for kind, text in sorted(w.conditions.items()))
    settled = {p.name for p in d.pods if _settled(p)}
    for pod in d.pods:
        if pod.name in settled:
            continue
        head = f"pod/{pod.name}: {pod.phase}"
        if pod.unschedulable_reason:
            head += f", unschedulable: {pod.unschedulable_reason}"
        lines.append(head)
        lines.extend(
            f"  container {c.name}: {container_text(c)}"
            for c in pod.containers
            if not c.ready or _failed_before(c)
        )
    warnings = _grouped_warnings(d, settled)[-10:]
    if warnings:
        lines.append("recent warning events:")
        lines.extend(warnings)
    for where, text in sorted(d.logs.items()):
        if where.split("/", 1)[0] in settled:
            continue
        tail = [line for line in text.splitlines() if line.strip()][-LOG_LINES:]
        if tail:
            lines.append(f"last log lines of {where}:")
            lines.extend(f"  | {line}" for line in tail)
    return "\n".join(lines)


def _settled(pod: PodState) -> bool:
    """Serving, or done (a finished Job's pod, such as the migration's): nothing to explain."""
    serving = pod.ready and pod.phase == "Running" and not any(_failed_before(c) for c in pod.containers)
    return serving or pod.phase == "Succeeded"


def container_text(c: ContainerState) -> str:
    """Its state now, how often it restarted and why its last run ended.

    A real kubelet reports a crash loop as ``CrashLoopBackOff`` only while it waits between
    restarts; in between the container is running again (not ready) or terminated with
    ``Error``. The restart count and the last run's reason and exit code say it either way.
    """
    if c.waiting_reason:
        message = c.waiting_message
        if c.waiting_reason == "CrashLoopBackOff":
            message = message.split(" container=", 1)[0]  # the rest repeats the pod's name and uid
        state = f"{c.waiting_reason}: {message}" if message else c.waiting_reason
    elif c.running:
        state = "running, not ready"
    else:
        state = c.terminated_reason or "not ready"
        if c.exit_code is not None:
            state += f" (exit code {c.exit_code})"
    if c.restart_count:
        state += f"; restarted {c.restart_count}x"
    if c.last_terminated_reason or c.last_exit_code is not None:
        state += f"; last run ended: {c.last_terminated_reason or 'terminated'}"
        if c.last_exit_code is not None:
            state += f" (exit code {c.last_exit_code})"
    elif c.waiting_reason and c.exit_code is not None:  # a port that reports only terminated_*
        state += f"; last run ended: {c.terminated_reason or 'terminated'} (exit code {c.exit_code})"
    if "OOMKilled" in (c.last_terminated_reason, c.terminated_reason):
        state += " - killed for using more memory than its limit; raise resources.limits.memory"
    return state


def _grouped_warnings(d: Diagnostics, settled: set[str]) -> list[str]:
    """Warning events, one line per object and reason (the latest message, counts summed).

    Without grouping, a ReplicaSet refused by a quota fills the list with one event per pod
    name it tried; events about settled pods (the finished migration) are left out.
    """
    grouped: dict[tuple[str, str, str], tuple[str, int]] = {}
    for e in d.events:
        if e.type != "Warning" or (e.object_kind == "Pod" and e.object_name in settled):
            continue
        key = (e.object_kind.lower(), e.object_name, e.reason)
        _, count = grouped.pop(key, ("", 0))
        grouped[key] = (e.message, count + max(e.count, 1))  # re-inserted: ordered by latest
    return [
        f"  {kind}/{name}: {reason}: {message}" + (f" (x{count})" if count > 1 else "")
        for (kind, name, reason), (message, count) in grouped.items()
    ]
