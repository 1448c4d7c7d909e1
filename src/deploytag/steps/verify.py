"""Step 11: track the rollout to ready; on failure explain it in a digest.

The digest names the failing objects with their conditions and recent events,
pod reasons (ImagePullBackOff, CrashLoopBackOff, Pending with the scheduler's
reason) and the last log lines of failing containers, so nobody needs kubectl
to see why a deploy failed.
"""

from __future__ import annotations

from collections.abc import Sequence

from deploytag.core.errors import VerifyError
from deploytag.ports.cluster import Diagnostics, PodState, WorkloadState
from deploytag.steps.context import RunContext, StepResult, annotation, dumps
from deploytag.steps.release import after_failure

# Waiting reasons that never resolve by themselves: fail at once rather than at the timeout.
FATAL_REASONS = frozenset(
    {"InvalidImageName", "CreateContainerConfigError", "ErrImageNeverPull", "CreateContainerError"}
)
POLL_SECONDS = 1.0
LOG_LINES = 20


class VerifyStep:
    name = "verify"

    def run(self, ctx: RunContext) -> StepResult:
        if ctx.unchanged:
            _record_urls(ctx)
            return StepResult("skipped", "release unchanged")
        cluster = ctx.providers.cluster
        clock = ctx.providers.clock
        deadline = clock.monotonic() + ctx.timeout_seconds
        namespace = ctx.names.namespace
        while True:
            workloads = cluster.list_workloads(namespace=namespace)
            pending = [w for w in workloads if not w.rolled_out]
            if not pending:
                _record_urls(ctx)
                return StepResult("changed", f"{len(workloads)} workloads ready")
            fatal = _fatal_pods(cluster.collect_diagnostics(namespace=namespace, log_lines=0).pods)
            if fatal or clock.monotonic() >= deadline:
                self._fail(ctx, pending, timed_out=not fatal)
            # The release is applied: a newer commit waiting for the lease may take over from here.
            ctx.checkpoint()
            clock.sleep(POLL_SECONDS)

    def _fail(self, ctx: RunContext, pending: list[WorkloadState], *, timed_out: bool) -> None:
        diagnostics = ctx.providers.cluster.collect_diagnostics(
            namespace=ctx.names.namespace, log_lines=LOG_LINES
        )
        digest = format_digest(diagnostics)
        what = ", ".join(f"{w.kind.lower()}/{w.name}" for w in pending)
        reason = f"not ready after {ctx.timeout_seconds} s" if timed_out else "cannot start"
        hint = after_failure(ctx, None)
        raise VerifyError(f"rollout of {what} {reason}", hint=hint, digest=digest)


def _fatal_pods(pods: Sequence[PodState]) -> list[PodState]:
    out = []
    for pod in pods:
        if any(c.waiting_reason in FATAL_REASONS for c in pod.containers):
            out.append(pod)
    return out


def _record_urls(ctx: RunContext) -> None:
    urls: list[str] = list(ctx.urls)  # the dns step's names first: they are what people open
    for service in ctx.providers.cluster.list_services(namespace=ctx.names.namespace):
        if service.type != "LoadBalancer":
            continue
        for host in service.hostnames:
            port = service.ports[0] if service.ports else 80
            urls.append(f"http://{host}" + ("" if port == 80 else f":{port}"))
    ctx.urls = urls
    ctx.record[annotation("urls")] = dumps(urls)


def format_digest(d: Diagnostics) -> str:
    """Plain text, one failing object per block; no secrets (only states, events, logs)."""
    lines: list[str] = []
    for w in d.workloads:
        if w.rolled_out:
            continue
        lines.append(f"{w.kind.lower()}/{w.name}: {w.ready}/{w.desired} ready, {w.updated} updated")
        lines.extend(f"  condition {kind}: {text}" for kind, text in sorted(w.conditions.items()))
    for pod in d.pods:
        if pod.ready and pod.phase == "Running":
            continue
        head = f"pod/{pod.name}: {pod.phase}"
        if pod.unschedulable_reason:
            head += f", unschedulable: {pod.unschedulable_reason}"
        lines.append(head)
        for c in pod.containers:
            if c.ready:
                continue
            state = c.waiting_reason or c.terminated_reason or "not ready"
            text = f"  container {c.name}: {state}"
            if c.waiting_message:
                text += f": {c.waiting_message}"
            if c.restart_count:
                text += f" (restarted {c.restart_count}x)"
            if c.exit_code is not None:
                text += f" (exit code {c.exit_code})"
            lines.append(text)
    warnings = [e for e in d.events if e.type == "Warning"][-10:]
    if warnings:
        lines.append("recent warning events:")
        lines.extend(
            f"  {e.object_kind.lower()}/{e.object_name}: {e.reason}: {e.message}"
            + (f" (x{e.count})" if e.count > 1 else "")
            for e in warnings
        )
    for where, text in sorted(d.logs.items()):
        tail = [line for line in text.splitlines() if line.strip()][-LOG_LINES:]
        if tail:
            lines.append(f"last log lines of {where}:")
            lines.extend(f"  | {line}" for line in tail)
    return "\n".join(lines)
