"""Pull requests (GitHub) and merge requests (GitLab): is a branch's change still open?

``deploytag gc`` removes an environment whose change was closed or merged. The
adapters (``adapters.git.hosts``) ask the host's API through the HttpClient port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from deploytag.core.errors import DeployTagError

ChangeState = Literal["open", "closed", "merged"]


class GitHostError(DeployTagError):
    """The git host's API could not be asked or refused (bad token, rate limit, unreachable)."""


@dataclass(frozen=True)
class ChangeRequest:
    number: int  # the PR number on GitHub, the MR's iid on GitLab
    state: ChangeState
    url: str  # the page a person opens
    label: str  # "pull request #12", "merge request !7": how people name it


class ChangeRequests(Protocol):
    host: str  # "github" or "gitlab": names the provider in reports
    repository: str  # owner/name (GitHub) or the project's path (GitLab)

    def for_branch(self, *, branch: str) -> ChangeRequest | None:
        """The branch's change: an open one if there is any, else the newest; None when it never had one.

        Raises GitHostError when the host cannot be asked.
        """
        ...
