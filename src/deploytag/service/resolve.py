"""Branch and environment resolution and the name plan, shared by every command."""

from __future__ import annotations

from dataclasses import dataclass

from deploytag.core.branch import BranchRef, EnvironmentMatch, from_ci, match_environment
from deploytag.core.config import LoadedConfig
from deploytag.core.dnsowner import OWNER_PREFIX
from deploytag.core.errors import PlanError
from deploytag.core.naming import NamePlan, derive
from deploytag.ports.providers import Providers


@dataclass(frozen=True)
class Target:
    ref: BranchRef
    match: EnvironmentMatch | None  # None: no rule matches, the branch is skipped
    names: NamePlan | None


def resolve_branch(
    *,
    branch: str | None,
    commit: str | None,
    environ: dict[str, str],
    loaded: LoadedConfig,
    providers: Providers,
) -> BranchRef:
    if branch:
        return BranchRef(branch=branch, commit=commit or _git_commit(loaded, providers), source="flag")
    ci = from_ci(environ)
    if ci is not None:
        return BranchRef(branch=ci.branch, commit=commit or ci.commit, source=ci.source)
    found = providers.git.current_branch(repo=loaded.root)
    if not found:
        raise PlanError(
            "cannot tell which branch to deploy: no --branch, no CI variables, and git has no "
            "checked-out branch here",
            hint="pass --branch NAME (and --commit SHA)",
        )
    return BranchRef(branch=found, commit=commit or _git_commit(loaded, providers), source="git")


def _git_commit(loaded: LoadedConfig, providers: Providers) -> str:
    return providers.git.head_commit(repo=loaded.root) or ""


def target_for(ref: BranchRef, loaded: LoadedConfig) -> Target:
    cfg = loaded.config
    match = match_environment(ref.branch, cfg.branches)
    if match is None:
        return Target(ref=ref, match=None, names=None)
    names = derive(
        app=cfg.app,
        branch=ref.branch,
        commit=ref.commit,
        kind=match.kind,
        environment=match.environment,
        fixed_namespace=match.fixed_namespace
        or (f"{cfg.app}-{match.environment}" if match.kind == "permanent" else None),
        images={name: image.repository for name, image in cfg.images.items()},
        dns_templates=cfg.dns.records,
        dns_zone=cfg.dns.zone,
        dns_owner_prefix=OWNER_PREFIX,
        database_engine=cfg.database.engine,
    )
    _check_collisions(names, loaded)
    return Target(ref=ref, match=match, names=names)


def _check_collisions(names: NamePlan, loaded: LoadedConfig) -> None:
    """A preview must never land in a permanent environment's namespace."""
    if names.kind != "preview":
        return
    cfg = loaded.config
    for branch, env in cfg.branches.permanent.items():
        fixed = env.namespace or f"{cfg.app}-{env.environment}"
        if names.namespace == fixed:
            raise PlanError(
                f"branch {names.branch!r} would use namespace {fixed}, which belongs to the permanent "
                f"environment of {branch!r}",
                hint="rename the branch or give that permanent environment another namespace",
            )
