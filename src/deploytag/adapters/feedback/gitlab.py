"""Feedback on GitLab: one merge request note, edited in place, and a commit status with the URL.

Configured by the GitLab CI variables: CI_API_V4_URL, CI_PROJECT_ID,
CI_MERGE_REQUEST_IID and CI_MERGE_REQUEST_SOURCE_BRANCH_NAME; the token is
DEPLOYTAG_GITLAB_TOKEN or GITLAB_TOKEN (the secret store or the environment), a
project or personal access token with the ``api`` scope (CI_JOB_TOKEN cannot write notes).

Endpoints (REST API v4): GET /projects/{id}/merge_requests?source_branch=,
GET and POST /projects/{id}/merge_requests/{iid}/notes,
PUT /projects/{id}/merge_requests/{iid}/notes/{note_id}, POST /projects/{id}/statuses/{sha};
in a job with an environment, GET /projects/{id}/environments?name= and PUT /projects/{id}/environments/{id}
(its external_url: the merge request's "View app" button).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any, Self

from deploytag.adapters.feedback.http import JsonApi, epoch, next_link
from deploytag.core.config import FeedbackConfig
from deploytag.core.errors import ConfigError
from deploytag.ports.clock import Clock
from deploytag.ports.feedback import CommentWrite, CommitStatus, FeedbackError, PullRequest

DEFAULT_API = "https://gitlab.com/api/v4"
# GitLab's commit status states; "pending" would read as "not started" in the pipeline widget.
_STATES = {"pending": "running", "success": "success", "failure": "failed"}


class GitLabFeedback:
    platform = "GitLab"
    token_keys = ("DEPLOYTAG_GITLAB_TOKEN", "GITLAB_TOKEN")

    def __init__(
        self,
        *,
        api: JsonApi,
        project: str,
        event: PullRequest | None = None,
        event_branch: str = "",
        environment: str = "",
    ) -> None:
        self._api = api
        self._environment = environment  # CI_ENVIRONMENT_NAME: the job's `environment: name:`
        self._project = urllib.parse.quote(project, safe="")  # a numeric id, or group/name encoded
        self._event = event
        self._event_branch = event_branch

    def __repr__(self) -> str:
        return f"GitLabFeedback({self._project!r} at {self._api.base_url!r})"

    @classmethod
    def detect(cls, *, environ: Mapping[str, str]) -> bool:
        return environ.get("GITLAB_CI") == "true"

    @classmethod
    def from_environment(
        cls, *, environ: Mapping[str, str], token: str, config: FeedbackConfig, clock: Clock
    ) -> Self:
        project = environ.get("CI_PROJECT_ID", "")
        if not project:
            raise ConfigError(
                "GitLab feedback needs CI_PROJECT_ID", hint="run in GitLab CI, or export CI_PROJECT_ID"
            )
        api = JsonApi(
            base_url=environ.get("CI_API_V4_URL") or DEFAULT_API,
            headers={"PRIVATE-TOKEN": token, "User-Agent": "deploytag"},
            platform=cls.platform,
            secrets=(token,),
            timeout=config.timeout_seconds,
            max_wait=config.retry_wait_seconds,
            sleep=clock.sleep,
            now=clock.now,
        )
        iid = environ.get("CI_MERGE_REQUEST_IID", "")
        pushed_at = epoch(environ.get("CI_PIPELINE_CREATED_AT"))  # the pipeline starts on the push
        event = PullRequest(number=int(iid), pushed_at=pushed_at) if iid.isdigit() else None
        branch = environ.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "")
        return cls(
            api=api,
            project=project,
            event=event,
            event_branch=branch,
            environment=environ.get("CI_ENVIRONMENT_NAME", ""),
        )

    def pull_request_for(self, *, branch: str) -> PullRequest | None:
        if self._event is not None and self._event_branch == branch:
            return self._event
        query: dict[str, str | int] = {"source_branch": branch, "state": "opened", "per_page": 1}
        found = self._api.call("GET", self._api.url(f"/projects/{self._project}/merge_requests", query)).data
        if not isinstance(found, list) or not found:
            return None
        return PullRequest(number=int(found[0]["iid"]), url=found[0].get("web_url"))

    def upsert_comment(self, *, number: int, marker: str, body: str) -> CommentWrite:
        notes = f"/projects/{self._project}/merge_requests/{number}/notes"
        existing = self._find_note(notes, marker)
        if existing is not None:
            self._api.call("PUT", self._api.url(f"{notes}/{existing}"), {"body": body})
            return CommentWrite(id=existing, created=False)
        data = self._api.call("POST", self._api.url(notes), {"body": body}).data
        return CommentWrite(id=int(data["id"]), created=True)

    def _find_note(self, notes: str, marker: str) -> int | None:
        url: str | None = self._api.url(notes, {"per_page": 100, "sort": "asc", "order_by": "created_at"})
        while url is not None:
            response = self._api.call("GET", url)
            if not isinstance(response.data, list):
                raise FeedbackError("GitLab answered the merge request's notes with something not a list")
            for note in response.data:
                if not note.get("system") and marker in str(note.get("body") or ""):
                    return int(note["id"])
            url = next_link(response.headers)
        return None

    def set_commit_status(self, *, commit: str, status: CommitStatus) -> None:
        body: dict[str, Any] = {
            "state": _STATES[status.state],
            "name": status.context,
            "description": status.description[:255],
        }
        if status.target_url:
            body["target_url"] = status.target_url
        self._api.call("POST", self._api.url(f"/projects/{self._project}/statuses/{commit}"), body)

    def link_environment(self, *, url: str) -> None:
        """Set the job's environment's external_url, so the merge request's "View app" opens it.

        Only in a job that declares ``environment: name:`` (CI_ENVIRONMENT_NAME); GitLab expands
        only CI variables in ``environment: url:``, so DeployTag's URL cannot be written there.
        """
        if not self._environment:
            return
        query: dict[str, str | int] = {"name": self._environment}
        found = self._api.call("GET", self._api.url(f"/projects/{self._project}/environments", query)).data
        match = [e for e in found if e.get("name") == self._environment] if isinstance(found, list) else []
        if not match or match[0].get("external_url") == url:
            return
        path = f"/projects/{self._project}/environments/{int(match[0]['id'])}"
        self._api.call("PUT", self._api.url(path), {"external_url": url})
