"""Step 7: one namespace per branch, labelled as ours, with default quota and limits."""

from __future__ import annotations

from collections.abc import Mapping

from deploytag.capabilities.base import Capability, Removed, StepResult, Teardown
from deploytag.capabilities.chartvalues import fingerprint
from deploytag.capabilities.context import RunContext, annotation
from deploytag.capabilities.outputs import NamespacePresence
from deploytag.capabilities.status import recorded_json
from deploytag.core.errors import NameCollisionError, PlanError
from deploytag.core.settingsmodel import to_data
from deploytag.core.timestamps import rfc3339
from deploytag.ports.cluster import MANAGED_BY_LABEL, MANAGED_BY_VALUE, NamespaceInfo

APP_LABEL = "deploytag.dev/app"
KIND_LABEL = "deploytag.dev/kind"
ENVIRONMENT_LABEL = "deploytag.dev/environment"
QUOTA_NAME = "deploytag-default"


def environment_labels(ctx: RunContext) -> dict[str, str]:
    return {
        MANAGED_BY_LABEL: MANAGED_BY_VALUE,
        APP_LABEL: ctx.names.app,
        KIND_LABEL: ctx.names.kind,
        ENVIRONMENT_LABEL: ctx.names.environment,
    }


def check_ownership(existing: NamespaceInfo | None, ctx: RunContext) -> None:
    """Never adopt a namespace that belongs to someone else or to another branch."""
    check_owner(existing, branch=ctx.names.branch, adopt=ctx.options.adopt)


def check_owner(existing: NamespaceInfo | None, *, branch: str, adopt: bool = False) -> None:
    """``check_ownership`` for callers without a run (``plan --check-cluster``)."""
    if existing is None:
        return
    if existing.labels.get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE:
        if adopt:
            return
        raise PlanError(
            f"namespace {existing.name} exists and is not managed by DeployTag",
            hint="pass --adopt to take it over, or set a different namespace in deploytag.yaml",
        )
    check_branch(existing, branch=branch)
    if existing.phase == "Terminating":
        raise PlanError(
            f"namespace {existing.name} is still being deleted",
            hint="wait for the previous destroy to finish, then run deploy again",
        )


def check_branch(existing: NamespaceInfo, *, branch: str, hint: str = "") -> None:
    """Refuse to act on another branch's environment: the one collision readable names allow.

    Branches equal after lowercasing and '/' -> '-' share names (core.naming); the namespace
    records the raw branch, so the second one is told apart here, by every command.
    """
    recorded = existing.annotations.get(annotation("branch"))
    if recorded is None or recorded == branch:
        return
    raise NameCollisionError(
        f"branch {branch!r} gets namespace {existing.name}, which belongs to branch {recorded!r} "
        "(names are the branch lowercased with '/' as '-'); nothing was changed",
        hint=hint
        or f"rename this branch so it differs by more than case and '/', or remove the other "
        f"environment first (deploytag destroy --branch {recorded!r})",
    )


class NamespaceStep(Capability):
    name = "namespace"

    def removes(self, *, teardown: Teardown) -> bool:
        return True

    def remove(self, *, teardown: Teardown) -> StepResult:
        """Delete the namespace and wait until it is gone (the release was uninstalled before)."""
        namespace = teardown.names.namespace
        existed = teardown.outputs.get(NamespacePresence).existed
        gone = teardown.providers.cluster.delete_namespace(
            name=namespace, wait=True, timeout_seconds=teardown.timeout_seconds
        )
        teardown.removed.append(Removed("namespace", namespace, existed, gone))
        return StepResult(
            "changed" if existed else "unchanged",
            ("deleted" if gone else "still terminating") if existed else "absent",
        )

    def ensure(self, *, ctx: RunContext) -> StepResult:
        cluster = ctx.providers.cluster
        existing = cluster.get_namespace(name=ctx.names.namespace)
        check_ownership(existing, ctx)
        now = ctx.providers.clock.now()
        # The run's id (``run``) is written with the outcome, so a current namespace costs no write.
        annotations = {
            annotation("branch"): ctx.names.branch,
            annotation("app"): ctx.names.app,
            annotation("release"): ctx.names.release,
        }
        if existing is None or annotation("created-at") not in existing.annotations:
            annotations[annotation("created-at")] = rfc3339(now)
        # Who the preview counts against (limits.max_previews_per_author): whoever created it.
        if (existing is None or annotation("author") not in existing.annotations) and ctx.author:
            annotations[annotation("author")] = ctx.author
        labels = environment_labels(ctx)
        if existing is not None and existing.phase != "Terminating" and _holds(existing, labels, annotations):
            return StepResult("unchanged", ctx.names.namespace)
        cluster.ensure_namespace(name=ctx.names.namespace, labels=labels, annotations=annotations)
        if existing is None:
            return StepResult("changed", f"created {ctx.names.namespace}")
        same = all(existing.labels.get(k) == v for k, v in labels.items())
        return StepResult("unchanged" if same else "changed", ctx.names.namespace)


def _holds(existing: NamespaceInfo, labels: Mapping[str, str], annotations: Mapping[str, str]) -> bool:
    """Whether the namespace already carries these labels and annotations."""
    return all(existing.labels.get(k) == v for k, v in labels.items()) and all(
        existing.annotations.get(k) == v for k, v in annotations.items()
    )


def none_recorded(ctx: RunContext) -> bool:
    """The last run finished, successfully, and recorded no quota: then none of ours is left to
    delete (two round trips a redeploy saves). A quota is recorded by the run that applies it; a
    run that failed or was killed after applying one leaves no such record."""
    previous = ctx.previous
    finished = recorded_json(previous, "progress").get("state") in ("succeeded", "unchanged")
    return (
        finished
        and previous.get(annotation("outcome")) == "succeeded"
        and annotation("quota") not in previous
    )


class QuotaStep(Capability):
    """Default quota and limits; removed with the namespace."""

    name = "quota"

    def ensure(self, *, ctx: RunContext) -> StepResult:
        quota = ctx.loaded.config.cluster.quota
        cluster = ctx.providers.cluster
        if not quota.enabled:
            if not none_recorded(ctx):
                cluster.delete_quotas(namespace=ctx.names.namespace, name=QUOTA_NAME)
            return StepResult("skipped", "cluster.quota.enabled is false", {annotation("quota"): None})
        wanted = fingerprint(to_data(quota))
        recorded = {annotation("quota"): wanted}
        if ctx.previous.get(annotation("quota")) == wanted and not ctx.options.force:
            return StepResult("unchanged", "quota and limits as recorded", recorded)
        labels = {MANAGED_BY_LABEL: MANAGED_BY_VALUE}
        cluster.apply_resource_quota(
            namespace=ctx.names.namespace, name=QUOTA_NAME, hard=quota.hard, labels=labels
        )
        cluster.apply_limit_range(
            namespace=ctx.names.namespace,
            name=QUOTA_NAME,
            default_limits=quota.default_limits,
            default_requests=quota.default_requests,
            labels=labels,
        )
        return StepResult("changed", ", ".join(f"{k}={v}" for k, v in sorted(quota.hard.items())), recorded)
