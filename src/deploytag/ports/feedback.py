"""The Feedback port: one comment per pull/merge request, edited in place, and a commit status.

A provider (GitHub, GitLab) is built from the CI variables of its platform and a
token; it finds the request a branch belongs to, writes the one comment that
carries a hidden marker (creating it only when no comment has it), and sets the
commit's status with the environment's URL. Every failure is a ``FeedbackError``:
the caller turns it into one warning line, never into a failed deploy.
"""

from __future__ import annotations

from typing import Literal, Protocol

import msgspec

StatusState = Literal["pending", "success", "failure"]


class FeedbackError(Exception):
    """The platform refused or failed a call; the message names the call, never the token."""


class FeedbackUnreachable(FeedbackError):
    """No answer at all (connection refused, timeout): later calls in this run would wait in vain."""


class PullRequest(msgspec.Struct, frozen=True, kw_only=True):
    number: int  # GitHub's pull request number, GitLab's merge request iid
    url: str | None = None  # its web page
    pushed_at: float | None = None  # when the CI event says the branch was last pushed (epoch seconds)


class CommentWrite(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    created: bool  # False: an existing comment with the marker was edited
    url: str | None = None


class CommitStatus(msgspec.Struct, frozen=True, kw_only=True):
    state: StatusState
    context: str  # one status per app: "deploytag/<app>"
    description: str  # short: platforms cut it at 140 (GitHub) or 255 (GitLab) characters
    target_url: str | None = None  # the environment's URL, linked from the request's checks


class Feedback(Protocol):
    """One platform's pull/merge requests for one repository (project)."""

    @property
    def platform(self) -> str:
        """ "GitHub" or "GitLab", as warnings name it."""
        ...

    def pull_request_for(self, *, branch: str) -> PullRequest | None:
        """The open request whose source branch is ``branch``: the CI event's when it is for that
        branch, else looked up by branch; None when there is none."""
        ...

    def upsert_comment(self, *, number: int, marker: str, body: str) -> CommentWrite:
        """Edit the request's comment containing ``marker`` (every page searched), else create it."""
        ...

    def set_commit_status(self, *, commit: str, status: CommitStatus) -> None: ...

    def link_environment(self, *, url: str) -> None:
        """Point the CI job's environment at ``url`` where the platform keeps one (GitLab's
        CI_ENVIRONMENT_NAME); a no-op elsewhere (GitHub: the status's target_url is the link)."""
        ...
