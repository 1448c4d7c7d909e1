"""Pull/merge request lookups (adapters.git.hosts) over real HTTP against the hosts' double, and
how the provider is read from a remote's URL."""

from __future__ import annotations

import pytest
from githost import GITHUB_TOKEN, GITLAB_TOKEN, GitHostDouble

from deploytag.adapters.common.http import UrllibHttp
from deploytag.adapters.git.hosts import GitHubPulls, GitLabMergeRequests, from_remote, parse_remote
from deploytag.ports.changes import GitHostError


@pytest.mark.parametrize(
    ("url", "host", "path"),
    [
        ("https://github.com/acme/shop.git", "github.com", "acme/shop"),
        ("git@github.com:acme/shop.git", "github.com", "acme/shop"),
        ("ssh://git@gitlab.example.com:2222/group/sub/shop.git", "gitlab.example.com", "group/sub/shop"),
        ("https://token@GitLab.com/group/shop", "gitlab.com", "group/shop"),
    ],
)
def test_remote_urls_name_host_and_repository(url: str, host: str, path: str) -> None:
    remote = parse_remote(url)
    assert remote is not None
    assert (remote.host, remote.path) == (host, path)


@pytest.mark.parametrize("url", ["/srv/git/shop.git", "file:///srv/git/shop.git", "../shop", ""])
def test_local_remotes_have_no_host(url: str) -> None:
    assert parse_remote(url) is None


def test_provider_comes_from_the_remote_and_needs_a_token() -> None:
    http = UrllibHttp()
    github = from_remote("git@github.com:acme/shop.git", environ={"GITHUB_TOKEN": "t"}, http=http)
    assert isinstance(github, GitHubPulls)
    assert github.repository == "acme/shop"
    assert from_remote("git@github.com:acme/shop.git", environ={}, http=http) is None
    enterprise = {
        "GH_TOKEN": "t",
        "GITHUB_SERVER_URL": "https://git.corp",
        "GITHUB_API_URL": "https://git.corp/api/v3",
    }
    assert isinstance(from_remote("https://git.corp/acme/shop", environ=enterprise, http=http), GitHubPulls)
    gitlab = from_remote("https://gitlab.com/group/sub/shop.git", environ={"GITLAB_TOKEN": "t"}, http=http)
    assert isinstance(gitlab, GitLabMergeRequests)
    ci = {"CI_JOB_TOKEN": "j", "CI_SERVER_HOST": "code.corp", "CI_API_V4_URL": "https://code.corp/api/v4"}
    assert isinstance(
        from_remote("https://code.corp/group/shop.git", environ=ci, http=http), GitLabMergeRequests
    )
    assert from_remote("https://code.corp/group/shop.git", environ={"GITLAB_TOKEN": "t"}, http=http) is None


def test_github_pull_states(githost: GitHostDouble) -> None:
    githost.changes = {
        "feature/merged": ["merged"],
        "feature/closed": ["closed"],
        "feature/reopened": ["closed", "open"],  # an open one wins over a newer closed one
    }
    pulls = GitHubPulls(api=githost.url, repository="acme/shop", token=GITHUB_TOKEN, http=UrllibHttp())
    merged = pulls.for_branch(branch="feature/merged")
    assert merged is not None
    assert (merged.state, merged.label) == ("merged", "pull request #100")
    closed = pulls.for_branch(branch="feature/closed")
    assert closed is not None
    assert closed.state == "closed"
    reopened = pulls.for_branch(branch="feature/reopened")
    assert reopened is not None
    assert (reopened.state, reopened.number) == ("open", 101)
    assert pulls.for_branch(branch="feature/never") is None
    assert "/repos/acme/shop/pulls?head=acme%3Afeature%2Fmerged&state=all&per_page=100" in githost.requests


def test_gitlab_merge_request_states(githost: GitHostDouble) -> None:
    githost.changes = {"feature/merged": ["merged"], "feature/open": ["open"]}
    requests = GitLabMergeRequests(
        api=f"{githost.url}/api/v4",
        repository="group/sub/shop",
        header=("PRIVATE-TOKEN", GITLAB_TOKEN),
        http=UrllibHttp(),
    )
    merged = requests.for_branch(branch="feature/merged")
    assert merged is not None
    assert (merged.state, merged.label) == ("merged", "merge request !200")
    opened = requests.for_branch(branch="feature/open")
    assert opened is not None
    assert opened.state == "open"
    assert requests.for_branch(branch="feature/none") is None


def test_a_refused_token_is_an_error_never_an_answer(githost: GitHostDouble) -> None:
    pulls = GitHubPulls(api=githost.url, repository="acme/shop", token="wrong", http=UrllibHttp())
    with pytest.raises(GitHostError, match="refused the token"):
        pulls.for_branch(branch="feature/x")
    unreachable = GitHubPulls(api="http://127.0.0.1:9", repository="acme/shop", token="t", http=UrllibHttp())
    with pytest.raises(GitHostError, match="cannot reach"):
        unreachable.for_branch(branch="feature/x")
