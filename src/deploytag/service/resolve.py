"""Branch and environment resolution and the name plan, shared by every command."""

from __future__ import annotations

import msgspec

from deploytag.core.branch import (
    CI_BRANCH_VARIABLES,
    CI_COMMIT_VARIABLES,
    BranchRef,
    EnvironmentMatch,
    check_branch,
    from_ci,
    match_environment,
    object_id,
    revision_candidate,
)
from deploytag.core.config import LoadedConfig
from deploytag.core.dnsowner import OWNER_PREFIX
from deploytag.core.errors import PlanError
from deploytag.core.naming import NamePlan, derive
from deploytag.core.printable import shown
from deploytag.ports.providers import Providers


class Target(msgspec.Struct, frozen=True):
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
    """The branch and commit to act on, both checked before anything uses them.

    The commit ends up in annotations, values and image tags, so it is a hex
    object id (lowercased) or a revision git resolves to one; anything else is a
    PlanError naming where it came from.
    """
    if branch:
        check_branch(branch, source="--branch (DEPLOYTAG_BRANCH)")
        return BranchRef(
            branch=branch,
            commit=_commit(commit, "--commit (DEPLOYTAG_COMMIT)", loaded, providers),
            source="flag",
        )
    ci = from_ci(environ)
    if ci is not None:
        check_branch(ci.branch, source=CI_BRANCH_VARIABLES[ci.source])
        found_commit = (
            _commit(commit, "--commit (DEPLOYTAG_COMMIT)", loaded, providers)
            if commit
            else _commit(ci.commit, CI_COMMIT_VARIABLES[ci.source], loaded, providers, head=False)
        )
        return BranchRef(branch=ci.branch, commit=found_commit, source=ci.source)
    found = providers.git.current_branch(repo=loaded.root)
    if not found:
        raise PlanError(
            "cannot tell which branch to deploy: no --branch, no CI variables, and git has no "
            "checked-out branch here",
            hint="pass --branch NAME (and --commit SHA)",
        )
    check_branch(found, source="git")
    return BranchRef(
        branch=found, commit=_commit(commit, "--commit (DEPLOYTAG_COMMIT)", loaded, providers), source="git"
    )


def _commit(
    value: str | None, source: str, loaded: LoadedConfig, providers: Providers, *, head: bool = True
) -> str:
    """The commit ``value`` names; when none is given, git's HEAD (``head``) or none at all."""
    if not value:
        found = providers.git.head_commit(repo=loaded.root) if head else None
        # HEAD from git is an object id already; anything else is not trusted into a tag.
        return object_id(found or "") or ""
    as_id = object_id(value)
    if as_id is not None:
        return as_id
    if revision_candidate(value):
        resolved = providers.git.resolve_commit(repo=loaded.root, revision=value)
        if resolved and object_id(resolved):
            return resolved.lower()
    raise PlanError(
        f"{source} {shown(value)} is not a commit: neither a hex object id (7-40 or 64 hex digits) "
        f"nor a revision git resolves in {loaded.root}",
        hint='pass the commit\'s SHA, e.g. --commit "$(git rev-parse HEAD)"',
    )


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
