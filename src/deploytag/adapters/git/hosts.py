"""Pull requests on GitHub (and GitHub Enterprise Server) and merge requests on GitLab.

The provider is read from the remote's URL: ``github.com`` (API ``GITHUB_API_URL``, else
api.github.com), a GitHub Enterprise host (``GITHUB_SERVER_URL``'s host, API ``GITHUB_API_URL``,
both set by GitHub Actions), GitLab (``CI_SERVER_HOST``/``CI_API_V4_URL`` from GitLab CI, or a
host named gitlab.*). Tokens come from the environment (``GITHUB_TOKEN``/``GH_TOKEN``,
``GITLAB_TOKEN`` or GitLab CI's ``CI_JOB_TOKEN``) and only ever go into a request header.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deploytag.ports.changes import ChangeRequest, ChangeState, GitHostError
from deploytag.ports.http import HttpClient

TIMEOUT_SECONDS = 15.0
_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")  # git@github.com:o/r.git


@dataclass(frozen=True)
class RemoteRepository:
    host: str  # lowercased, without port
    path: str  # "owner/name" (GitHub), "group/sub/project" (GitLab)


def parse_remote(url: str) -> RemoteRepository | None:
    """Host and repository path of a git remote URL (https, ssh, scp-like); None for a local path."""
    url = url.strip()
    if "://" in url:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "file" or not parts.hostname:
            return None
        host, path = parts.hostname, parts.path
    else:
        found = _SCP_LIKE.match(url)
        if found is None:
            return None
        host, path = found["host"], found["path"]
    path = path.strip("/").removesuffix(".git").strip("/")
    if not path or "/" not in path:
        return None
    return RemoteRepository(host=host.lower(), path=path)


def _host_of(url: str | None) -> str | None:
    if not url:
        return None
    return (urllib.parse.urlsplit(url).hostname or "").lower() or None


def host_api(url: str, *, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """("github" or "gitlab", its API URL) for this remote; None for a host of neither (or a local path)."""
    remote = parse_remote(url)
    if remote is None:
        return None
    if remote.host == "github.com":
        return "github", environ.get("GITHUB_API_URL") or "https://api.github.com"
    if remote.host == _host_of(environ.get("GITHUB_SERVER_URL")) and environ.get("GITHUB_API_URL"):
        return "github", environ["GITHUB_API_URL"]  # GitHub Enterprise Server, as Actions describes it
    ci_host = environ.get("CI_SERVER_HOST", "").lower() or _host_of(environ.get("CI_API_V4_URL"))
    if remote.host == ci_host and environ.get("CI_API_V4_URL"):
        return "gitlab", environ["CI_API_V4_URL"]
    if remote.host.startswith("gitlab.") or ".gitlab." in remote.host:
        return "gitlab", f"https://{remote.host}/api/v4"
    return None


def from_remote(
    url: str, *, environ: Mapping[str, str], http: HttpClient
) -> GitHubPulls | GitLabMergeRequests | None:
    """The change lookup for this remote; None when the host is neither GitHub nor GitLab, or no
    token is configured for it."""
    found, remote = host_api(url, environ=environ), parse_remote(url)
    if found is None or remote is None:
        return None
    kind, api = found
    if kind == "github":
        token = environ.get("GITHUB_TOKEN") or environ.get("GH_TOKEN")
        return GitHubPulls(api=api, repository=remote.path, token=token, http=http) if token else None
    ci_host = environ.get("CI_SERVER_HOST", "").lower() or _host_of(environ.get("CI_API_V4_URL"))
    if environ.get("GITLAB_TOKEN"):
        header = ("PRIVATE-TOKEN", environ["GITLAB_TOKEN"])
    elif environ.get("CI_JOB_TOKEN") and remote.host == ci_host:
        header = ("JOB-TOKEN", environ["CI_JOB_TOKEN"])
    else:
        return None
    return GitLabMergeRequests(api=api, repository=remote.path, header=header, http=http)


def _get(http: HttpClient, url: str, headers: Mapping[str, str], what: str) -> Any:
    try:
        response = http.get_json(url=url, headers=headers, timeout_seconds=TIMEOUT_SECONDS)
    except OSError as e:
        raise GitHostError(f"cannot reach {what}: {e}", hint="check the network and the API URL") from e
    if response.status in (401, 403):
        raise GitHostError(
            f"{what} refused the token (HTTP {response.status})",
            hint="check that the token is valid and may read pull/merge requests of this repository",
        )
    if response.status != 200 or not isinstance(response.body, list):
        raise GitHostError(f"{what} answered HTTP {response.status}", hint="try again later")
    return response.body


def _pick(found: list[ChangeRequest]) -> ChangeRequest | None:
    """An open change wins (the branch is still under review); else the newest (lists are newest first)."""
    return next((c for c in found if c.state == "open"), found[0] if found else None)


class GitHubPulls:
    host = "github"

    def __init__(self, *, api: str, repository: str, token: str, http: HttpClient) -> None:
        self._api = api.rstrip("/")
        self.repository = repository
        self._headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "deploytag",
        }
        self._http = http

    def for_branch(self, *, branch: str) -> ChangeRequest | None:
        owner = self.repository.split("/", 1)[0]
        query = urllib.parse.urlencode({"head": f"{owner}:{branch}", "state": "all", "per_page": "100"})
        url = f"{self._api}/repos/{urllib.parse.quote(self.repository)}/pulls?{query}"
        pulls = _get(self._http, url, self._headers, f"GitHub ({self._api})")
        found = [
            ChangeRequest(
                number=int(p["number"]),
                state=_github_state(p),
                url=str(p.get("html_url", "")),
                label=f"pull request #{p['number']}",
            )
            for p in pulls
            if isinstance(p, dict) and "number" in p
        ]
        return _pick(found)


def _github_state(pull: Mapping[str, Any]) -> ChangeState:
    if pull.get("state") == "open":
        return "open"
    return "merged" if pull.get("merged_at") else "closed"


class GitLabMergeRequests:
    host = "gitlab"

    def __init__(self, *, api: str, repository: str, header: tuple[str, str], http: HttpClient) -> None:
        self._api = api.rstrip("/")
        self.repository = repository
        self._headers = {header[0]: header[1], "User-Agent": "deploytag"}
        self._http = http

    def for_branch(self, *, branch: str) -> ChangeRequest | None:
        project = urllib.parse.quote(self.repository, safe="")
        query = urllib.parse.urlencode({"source_branch": branch, "state": "all", "per_page": "100"})
        url = f"{self._api}/projects/{project}/merge_requests?{query}"
        requests = _get(self._http, url, self._headers, f"GitLab ({self._api})")
        found = [
            ChangeRequest(
                number=int(m["iid"]),
                state=_gitlab_state(m),
                url=str(m.get("web_url", "")),
                label=f"merge request !{m['iid']}",
            )
            for m in requests
            if isinstance(m, dict) and "iid" in m
        ]
        return _pick(found)


def _gitlab_state(request: Mapping[str, Any]) -> ChangeState:
    state = request.get("state")
    if state == "merged":
        return "merged"
    return "closed" if state == "closed" else "open"  # opened, locked: still under review
