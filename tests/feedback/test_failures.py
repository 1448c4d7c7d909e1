"""A platform that fails never fails the deploy: one warning line, no token in it, and the next run repairs."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from double import Double
from helpers import RecordingClock, github_env, gitlab_env, loaded, ready_report, ref

from deploytag.service import feedback
from deploytag.service.feedback_body import marker

COMMENTS = r"/repos/Codertocat/Hello-World/issues/2/comments"


def deploy(
    tmp_path: Path, env: dict[str, str], clock: RecordingClock, **choice: Any
) -> tuple[list[str], Any]:
    cfg = loaded(tmp_path)
    warnings: list[str] = []
    s = feedback.open_session(
        loaded=cfg, environ=env, clock=clock, warn=warnings.append, choice=feedback.FeedbackChoice(**choice)
    )
    assert s is not None
    report = feedback.reported_deploy(s, loaded=cfg, ref=ref(), clock=clock, deploy=ready_report)
    return warnings, report


@pytest.fixture
def pull(double: Double) -> Double:
    double.pulls[2] = {"head": "changes", "state": "open"}
    return double


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "headers", "expected"),
    [
        ("GET", COMMENTS, 500, {"message": "Server Error"}, {}, "GitHub answered HTTP 500 for GET"),
        (
            "POST",
            COMMENTS,
            403,
            {"message": "Resource not accessible by integration"},
            {},
            "HTTP 403 for POST /repos/Codertocat/Hello-World/issues/2/comments: "
            '{"message": "Resource not accessible by integration"}',
        ),
        (
            "GET",
            COMMENTS,
            429,
            {"message": "API rate limit exceeded"},
            {"Retry-After": "3600"},
            "(asked to wait 3600 s)",
        ),
        (
            "POST",
            COMMENTS,
            403,
            {"message": "API rate limit exceeded"},
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9999999999"},
            "HTTP 403",
        ),
        ("POST", COMMENTS, 201, {"unexpected": True}, {}, "GitHub answered in an unexpected shape (KeyError"),
    ],
    ids=["500", "403-forbidden", "429-long-retry-after", "403-rate-limit", "201-without-id"],
)
def test_one_warning_line_and_the_report_unchanged(
    tmp_path: Path,
    pull: Double,
    clock: RecordingClock,
    method: str,
    path: str,
    status: int,
    body: dict[str, str],
    headers: dict[str, str],
    expected: str,
) -> None:
    pull.fail(method, path, status, body=body, headers=headers, times=None)
    warnings, report = deploy(tmp_path, github_env(pull), clock)
    assert report.outcome == "succeeded" and report.exception is None
    assert len(warnings) == 1, warnings  # deploying and ready both failed: still one line
    assert warnings[0].startswith("warning: pull request feedback not posted: ")
    assert expected in warnings[0] and "\n" not in warnings[0]
    assert clock.sleeps == []  # a wait beyond retry_wait_seconds is not waited
    assert pull.comments.get(2, []) == []


def test_a_short_retry_after_is_waited_once_and_the_call_succeeds(
    tmp_path: Path, pull: Double, clock: RecordingClock
) -> None:
    pull.fail("POST", COMMENTS, 429, body={"message": "secondary rate limit"}, headers={"Retry-After": "2"})
    warnings, _ = deploy(tmp_path, github_env(pull), clock)
    assert warnings == [] and clock.sleeps == [2.0]
    assert len(pull.comments[2]) == 1 and len(pull.calls_to("POST", COMMENTS)) == 2


def test_a_second_rate_limit_gives_up_after_one_retry(
    tmp_path: Path, pull: Double, clock: RecordingClock
) -> None:
    pull.fail("GET", COMMENTS, 429, headers={"Retry-After": "1"}, times=None)
    warnings, _ = deploy(tmp_path, github_env(pull), clock)
    assert len(warnings) == 1 and "HTTP 429" in warnings[0]
    assert clock.sleeps == [1.0, 1.0]  # deploying and ready: each call retried once, never more


def test_a_pull_request_that_does_not_exist(tmp_path: Path, pull: Double, clock: RecordingClock) -> None:
    warnings, report = deploy(tmp_path, github_env(pull), clock, pull_request=404)
    assert report.outcome == "succeeded"
    assert (
        len(warnings) == 1
        and "HTTP 404 for GET /repos/Codertocat/Hello-World/issues/404/comments" in warnings[0]
    )


def test_an_unreachable_api_is_one_warning_and_no_more_calls(tmp_path: Path, clock: RecordingClock) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": f"http://127.0.0.1:{port}",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_TOKEN": "ghp_unreachable0000000000",
    }
    warnings, report = deploy(tmp_path, env, clock, pull_request=1)
    assert report.outcome == "succeeded"
    assert len(warnings) == 1 and "GitHub API unreachable for POST /repos/o/r/statuses/" in warnings[0]


def test_the_token_never_reaches_a_warning_even_when_the_api_echoes_it(
    tmp_path: Path, pull: Double, clock: RecordingClock
) -> None:
    echo = {"message": f"Bad credentials for {pull.token}", "request": f"Authorization: Bearer {pull.token}"}
    pull.fail("GET", COMMENTS, 401, body=echo, times=None)
    warnings, _ = deploy(tmp_path, github_env(pull), clock)
    assert len(warnings) == 1 and "HTTP 401" in warnings[0]
    assert pull.token not in warnings[0] and "[redacted]" in warnings[0]
    for call in pull.calls:
        assert pull.token not in call.raw_target and call.headers["authorization"] == f"Bearer {pull.token}"


def test_the_next_run_repairs_a_comment_a_failed_run_left_behind(
    tmp_path: Path, pull: Double, clock: RecordingClock
) -> None:
    """Deploying was posted, then the API failed: the comment says "deploying"; the next run fixes it."""
    pull.fail("PATCH", r"/repos/Codertocat/Hello-World/issues/comments/\d+", 502, times=2)
    warnings, _ = deploy(tmp_path, github_env(pull), clock)
    assert len(warnings) == 1 and "HTTP 502" in warnings[0] and clock.sleeps == [1.0]
    [comment] = pull.comments[2]
    assert "**deploying**" in comment["body"]

    warnings, _ = deploy(tmp_path, github_env(pull), clock)
    assert warnings == []
    [comment] = pull.comments[2]
    assert "**ready**" in comment["body"] and comment["body"].count(marker(app="shop", branch="changes")) == 1


def test_gitlab_failures_are_one_warning_too(tmp_path: Path, double: Double, clock: RecordingClock) -> None:
    double.merge_requests[7] = {"source_branch": "changes", "state": "opened"}
    double.fail(
        "POST",
        r"/api/v4/projects/278964/statuses/[0-9a-f]+",
        403,
        body={"message": "403 Forbidden"},
        times=None,
    )
    warnings, report = deploy(tmp_path, gitlab_env(double), clock)
    assert report.outcome == "succeeded"
    assert (
        len(warnings) == 1
        and "GitLab answered HTTP 403 for POST /api/v4/projects/278964/statuses/" in warnings[0]
    )
    [note] = double.notes[7]  # the note still went out: a refused status stops nothing else
    assert "**ready**" in note["body"]


def test_a_failed_lookup_is_not_reported_as_no_pull_request(
    tmp_path: Path, double: Double, clock: RecordingClock
) -> None:
    double.pulls[7] = {"head": "changes", "state": "open"}
    double.fail("GET", r"/repos/Codertocat/Hello-World/pulls", 503, times=None)
    cfg = loaded(tmp_path)
    warnings: list[str] = []
    notes: list[str] = []
    env = github_env(double, GITHUB_EVENT_PATH="", GITHUB_REF="refs/heads/changes", GITHUB_HEAD_REF="")
    s = feedback.open_session(loaded=cfg, environ=env, clock=clock, warn=warnings.append, note=notes.append)
    assert s is not None
    feedback.reported_deploy(s, loaded=cfg, ref=ref(), clock=clock, deploy=ready_report)
    assert len(warnings) == 1 and "HTTP 503" in warnings[0]
    assert not any("no open" in n for n in notes)
    assert (
        len(double.calls_to("GET", r"/repos/Codertocat/Hello-World/pulls")) == 4
    )  # 2 steps, each retried once
    assert [st["state"] for st in double.statuses] == ["pending", "success"]


def test_even_a_bug_in_feedback_is_one_warning_and_the_report_is_returned(
    tmp_path: Path, pull: Double, clock: RecordingClock
) -> None:
    cfg = loaded(tmp_path)
    warnings: list[str] = []
    s = feedback.open_session(loaded=cfg, environ=github_env(pull), clock=clock, warn=warnings.append)
    assert s is not None
    odd = ready_report(images=["web:1"])  # not the records the renderer reads
    report = feedback.reported_deploy(s, loaded=cfg, ref=ref(), clock=clock, deploy=lambda: odd)
    assert report is odd
    assert len(warnings) == 1 and "internal error (AttributeError" in warnings[0]
