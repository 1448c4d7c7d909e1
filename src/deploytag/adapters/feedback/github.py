"""Feedback on GitHub: one issue comment per pull request, edited in place, and a commit status.

Configured by the GitHub Actions variables: GITHUB_API_URL, GITHUB_REPOSITORY,
GITHUB_EVENT_PATH (the ``pull_request`` event's payload) and GITHUB_REF
(``refs/pull/N/merge``); the token is DEPLOYTAG_GITHUB_TOKEN or GITHUB_TOKEN
(the secret store or the environment). It needs ``pull-requests: write`` (or
``issues: write``) and ``statuses: write``.

Endpoints (REST API 2022-11-28): GET /repos/{repo}/pulls?head=owner:branch,
GET and POST /repos/{repo}/issues/{n}/comments, PATCH /repos/{repo}/issues/comments/{id},
POST /repos/{repo}/statuses/{sha}.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from deploytag.adapters.feedback.http import JsonApi, epoch, next_link
from deploytag.core.config import FeedbackConfig
from deploytag.core.errors import ConfigError
from deploytag.ports.clock import Clock
from deploytag.ports.feedback import CommentWrite, CommitStatus, FeedbackError, PullRequest

DEFAULT_API = "https://api.github.com"
_PULL_REF = re.compile(r"refs/pull/(\d+)/(?:merge|head)")


class GitHubFeedback:
    platform = "GitHub"
    token_keys = ("DEPLOYTAG_GITHUB_TOKEN", "GITHUB_TOKEN")

    def __init__(self, *, api: JsonApi, repository: str, event: PullRequestEvent | None = None) -> None:
        self._api = api
        self.repository = repository
        self._event = event

    def __repr__(self) -> str:
        return f"GitHubFeedback({self.repository!r} at {self._api.base_url!r})"

    @classmethod
    def detect(cls, *, environ: Mapping[str, str]) -> bool:
        # The CI flag alone: a GITHUB_REPOSITORY left in a shell must not post from a laptop.
        return environ.get("GITHUB_ACTIONS") == "true"

    @classmethod
    def from_environment(
        cls, *, environ: Mapping[str, str], token: str, config: FeedbackConfig, clock: Clock
    ) -> Self:
        repository = environ.get("GITHUB_REPOSITORY", "")
        if repository.count("/") != 1:
            raise ConfigError(
                "GitHub feedback needs GITHUB_REPOSITORY (owner/name)",
                hint="run in GitHub Actions, or export GITHUB_REPOSITORY=owner/name",
            )
        api = JsonApi(
            base_url=environ.get("GITHUB_API_URL") or DEFAULT_API,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "deploytag",
            },
            platform=cls.platform,
            secrets=(token,),
            timeout=config.timeout_seconds,
            max_wait=config.retry_wait_seconds,
            sleep=clock.sleep,
            now=clock.now,
        )
        return cls(api=api, repository=repository, event=PullRequestEvent.from_environment(environ))

    def pull_request_for(self, *, branch: str) -> PullRequest | None:
        if self._event is not None and self._event.head == branch:
            event = self._event
            return PullRequest(number=event.number, url=event.url, pushed_at=event.pushed_at)
        owner = self.repository.split("/")[0]
        query: dict[str, str | int] = {"head": f"{owner}:{branch}", "state": "open", "per_page": 1}
        found = self._api.call("GET", self._api.url(f"/repos/{self.repository}/pulls", query)).data
        if not isinstance(found, list) or not found:
            return None
        first = found[0]
        return PullRequest(number=int(first["number"]), url=first.get("html_url"))

    def upsert_comment(self, *, number: int, marker: str, body: str) -> CommentWrite:
        existing = self._find_comment(number, marker)
        if existing is not None:
            url = self._api.url(f"/repos/{self.repository}/issues/comments/{existing}")
            data = self._api.call("PATCH", url, {"body": body}).data
            return CommentWrite(id=existing, created=False, url=_field(data, "html_url"))
        url = self._api.url(f"/repos/{self.repository}/issues/{number}/comments")
        data = self._api.call("POST", url, {"body": body}).data
        return CommentWrite(id=int(data["id"]), created=True, url=_field(data, "html_url"))

    def _find_comment(self, number: int, marker: str) -> int | None:
        """Every page, following the Link header (GitHub's next pages use /repositories/{id}/...)."""
        url: str | None = self._api.url(
            f"/repos/{self.repository}/issues/{number}/comments", {"per_page": 100}
        )
        while url is not None:
            response = self._api.call("GET", url)
            if not isinstance(response.data, list):
                raise FeedbackError(f"GitHub answered the comments of #{number} with something not a list")
            for comment in response.data:
                if marker in str(comment.get("body") or ""):
                    return int(comment["id"])
            url = next_link(response.headers)
        return None

    def set_commit_status(self, *, commit: str, status: CommitStatus) -> None:
        body: dict[str, Any] = {
            "state": status.state,
            "context": status.context,
            "description": status.description[:140],
        }
        if status.target_url:
            body["target_url"] = status.target_url
        self._api.call("POST", self._api.url(f"/repos/{self.repository}/statuses/{commit}"), body)

    def link_environment(self, *, url: str) -> None:
        """Nothing to do: the commit status's target_url is the pull request's link to the environment."""


class PullRequestEvent:
    """The pull request a GitHub Actions run is for: the event payload, else GITHUB_REF."""

    def __init__(self, *, number: int, head: str, url: str | None, pushed_at: float | None = None) -> None:
        self.number, self.head, self.url, self.pushed_at = number, head, url, pushed_at

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> PullRequestEvent | None:
        payload = _payload(environ.get("GITHUB_EVENT_PATH", ""))
        pull = payload.get("pull_request") if isinstance(payload, dict) else None
        if isinstance(pull, dict) and isinstance(pull.get("number"), int):
            head = pull.get("head") or {}
            return cls(
                number=pull["number"],
                head=str(head.get("ref") or ""),
                url=pull.get("html_url"),
                pushed_at=epoch(pull.get("updated_at")),  # an "opened"/"synchronize" event: the push
            )
        matched = _PULL_REF.fullmatch(environ.get("GITHUB_REF", ""))
        if matched and environ.get("GITHUB_HEAD_REF"):
            return cls(number=int(matched.group(1)), head=environ["GITHUB_HEAD_REF"], url=None)
        return None


def _payload(path: str) -> Any:
    if not path:
        return None
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None  # no event: the request is looked up by branch


def _field(data: Any, key: str) -> str | None:
    value = data.get(key) if isinstance(data, dict) else None
    return str(value) if value else None
