"""Which branch and commit a run is for, and which environment that branch gets.

Resolution order: ``--branch``/``--commit`` flags, then CI variables (GitHub
Actions, GitLab CI, CircleCI), then git (done by the service through the git
adapter, since reading a repository is I/O).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping

import msgspec

from deploytag.core.config import BranchRules
from deploytag.core.errors import PlanError
from deploytag.core.printable import shown, unprintable


class BranchRef(msgspec.Struct, frozen=True):
    branch: str
    commit: str
    source: str  # "flag", "github", "gitlab", "circleci", "git"


class EnvironmentMatch(msgspec.Struct, frozen=True):
    kind: str  # "preview" or "permanent"
    environment: str  # "preview" or the permanent environment's name
    rule: str  # the pattern or branch name that matched
    fixed_namespace: str | None = None
    min_replicas: int | None = None  # lint expectation; None for previews


def from_ci(environ: Mapping[str, str]) -> BranchRef | None:
    """The branch a CI system is building, or None outside CI (or on a tag)."""
    if environ.get("GITHUB_ACTIONS") == "true":
        # On pull_request events GITHUB_REF_NAME is "123/merge"; the head ref is the branch.
        branch = environ.get("GITHUB_HEAD_REF") or ""
        if not branch and environ.get("GITHUB_REF_TYPE", "branch") == "branch":
            branch = environ.get("GITHUB_REF_NAME", "")
        if branch:
            return BranchRef(branch=branch, commit=environ.get("GITHUB_SHA", ""), source="github")
    if environ.get("GITLAB_CI") == "true":
        branch = environ.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME") or environ.get("CI_COMMIT_BRANCH", "")
        if branch:
            return BranchRef(branch=branch, commit=environ.get("CI_COMMIT_SHA", ""), source="gitlab")
    if environ.get("CIRCLECI") == "true":
        branch = environ.get("CIRCLE_BRANCH", "")
        if branch:
            return BranchRef(branch=branch, commit=environ.get("CIRCLE_SHA1", ""), source="circleci")
    return None


# Where a CI system keeps the commit it builds, by BranchRef.source: named in errors.
CI_COMMIT_VARIABLES = {"github": "GITHUB_SHA", "gitlab": "CI_COMMIT_SHA", "circleci": "CIRCLE_SHA1"}
CI_BRANCH_VARIABLES = {
    "github": "GITHUB_HEAD_REF or GITHUB_REF_NAME",
    "gitlab": "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME or CI_COMMIT_BRANCH",
    "circleci": "CIRCLE_BRANCH",
}

# A SHA-1 object id or its abbreviation (git's shortest is 7), or a full SHA-256 one.
_OBJECT_ID = re.compile(r"[0-9a-fA-F]{7,40}|[0-9a-fA-F]{64}")
MAX_REVISION = 255


def object_id(value: str) -> str | None:
    """``value`` as a lowercase hex object id, or None when it is not shaped like one."""
    return value.lower() if _OBJECT_ID.fullmatch(value) else None


def check_branch(branch: str, *, source: str) -> None:
    """A branch name comes from a flag, a CI variable or git; none may carry control characters."""
    bad = unprintable(branch)
    if bad is not None:
        raise PlanError(
            f"the branch name from {source} contains a control character ({bad}): {shown(branch)}",
            hint='pass the branch\'s name as git shows it, e.g. --branch "$(git branch --show-current)"',
        )


def revision_candidate(value: str) -> bool:
    """Whether ``value`` could name a git revision at all: worth asking git about."""
    return (
        0 < len(value) <= MAX_REVISION
        and not value.startswith("-")
        and unprintable(value) is None
        and not any(c.isspace() for c in value)
    )


def match_environment(branch: str, rules: BranchRules) -> EnvironmentMatch | None:
    """Permanent environments first (exact name, then glob), then preview patterns."""
    permanent = rules.permanent.get(branch)
    rule = branch
    if permanent is None:
        for pattern, env in rules.permanent.items():
            if fnmatch.fnmatchcase(branch, pattern):
                permanent, rule = env, pattern
                break
    if permanent is not None:
        return EnvironmentMatch(
            kind="permanent",
            environment=permanent.environment,
            rule=rule,
            fixed_namespace=permanent.namespace,
            min_replicas=permanent.min_replicas,
        )
    for pattern in rules.previews:
        if fnmatch.fnmatchcase(branch, pattern):
            return EnvironmentMatch(kind="preview", environment="preview", rule=pattern)
    return None
