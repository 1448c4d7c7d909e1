"""A run's pieces for the feedback tests: configuration, branch, reports, CI environments."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from double import FIXTURES, Double

from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig, load_config
from deploytag.service.deploy import DEPLOY_SCHEMA, DeployReport
from deploytag.service.destroy import DESTROY_SCHEMA, DestroyReport, Removed

EVENT = FIXTURES / "pull_request.opened.json"  # a real pull_request event: #2, head "changes"
COMMIT = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"  # the webhook example's head sha
URL = "http://web-changes.preview.example.com:8080"


def loaded(tmp_path: Path, extra: str = "") -> LoadedConfig:
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    (repo / "deploytag.yaml").write_text(f"app: shop\nbranches:\n  previews: ['*']\n{extra}")
    return load_config(repo=repo, environ={})


def ref(branch: str = "changes", commit: str = COMMIT) -> BranchRef:
    return BranchRef(branch=branch, commit=commit, source="flag")


def github_env(d: Double, **extra: str) -> dict[str, str]:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": d.url,
        "GITHUB_REPOSITORY": d.repository,
        "GITHUB_TOKEN": d.token,
        "GITHUB_EVENT_PATH": str(EVENT),
        "GITHUB_REF": "refs/pull/2/merge",
        "GITHUB_HEAD_REF": "changes",
    }
    env.update(extra)
    return {k: v for k, v in env.items() if v}


def gitlab_env(d: Double, **extra: str) -> dict[str, str]:
    env = {
        "GITLAB_CI": "true",
        "CI_API_V4_URL": d.gitlab_url,
        "CI_PROJECT_ID": d.project,
        "CI_MERGE_REQUEST_IID": "7",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "changes",
        "DEPLOYTAG_GITLAB_TOKEN": d.token,
    }
    env.update(extra)
    return {k: v for k, v in env.items() if v}


def ready_report(**extra: Any) -> DeployReport:
    values: dict[str, Any] = {
        "schema": DEPLOY_SCHEMA,
        "outcome": "succeeded",
        "branch": "changes",
        "commit": COMMIT,
        "namespace": "shop-changes",
        "urls": [URL],
        "seconds": 42.0,
        "images": [{"name": "web", "repository": "registry.example.com/shop/web", "tags": [COMMIT[:12]]}],
        "steps": [{"name": "database", "outcome": "changed", "seconds": 1.0, "detail": ""}],
    }
    values.update(extra)
    return DeployReport(**values)


def destroy_report() -> DestroyReport:
    return DestroyReport(
        schema=DESTROY_SCHEMA,
        outcome="removed",
        branch="changes",
        namespace="shop-changes",
        removed=[
            Removed("helm release", "shop-changes", True, True),
            Removed("namespace", "shop-changes", True, True),
            Removed("lease", "shop-changes", True, True),
        ],
    )


class RecordingClock:
    """The wall clock, but sleeps are recorded and skipped: a Retry-After test takes no time."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
