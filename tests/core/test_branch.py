from __future__ import annotations

import pytest

from deploytag.core.branch import from_ci, match_environment
from deploytag.core.config import BranchRules


@pytest.mark.parametrize(
    ("environ", "branch", "commit", "source"),
    [
        (
            {
                "GITHUB_ACTIONS": "true",
                "GITHUB_REF_NAME": "feature/a",
                "GITHUB_REF_TYPE": "branch",
                "GITHUB_SHA": "abc",
            },
            "feature/a",
            "abc",
            "github",
        ),
        (
            {
                "GITHUB_ACTIONS": "true",
                "GITHUB_REF_NAME": "12/merge",
                "GITHUB_HEAD_REF": "bug/b",
                "GITHUB_SHA": "def",
            },
            "bug/b",
            "def",
            "github",
        ),
        (
            {"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "epic/c", "CI_COMMIT_SHA": "123"},
            "epic/c",
            "123",
            "gitlab",
        ),
        (
            {"GITLAB_CI": "true", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature/mr", "CI_COMMIT_SHA": "9"},
            "feature/mr",
            "9",
            "gitlab",
        ),
        (
            {"CIRCLECI": "true", "CIRCLE_BRANCH": "feature/d", "CIRCLE_SHA1": "456"},
            "feature/d",
            "456",
            "circleci",
        ),
    ],
)
def test_ci_variables(environ: dict[str, str], branch: str, commit: str, source: str) -> None:
    ref = from_ci(environ)
    assert ref is not None and (ref.branch, ref.commit, ref.source) == (branch, commit, source)


def test_tag_builds_and_no_ci_give_nothing() -> None:
    assert from_ci({"GITHUB_ACTIONS": "true", "GITHUB_REF_NAME": "v1.0", "GITHUB_REF_TYPE": "tag"}) is None
    assert from_ci({}) is None


def test_rules_permanent_first_then_previews() -> None:
    rules = BranchRules()
    main = match_environment("main", rules)
    assert main is not None and main.kind == "permanent" and main.environment == "staging"
    assert main.min_replicas == 2
    preview = match_environment("feature/login", rules)
    assert preview is not None and preview.kind == "preview" and preview.rule == "feature/*"
    assert match_environment("chore/deps", rules) is None
