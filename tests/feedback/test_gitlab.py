"""GitLab feedback against the local double: one merge request note, edited in place, and the URL."""

from __future__ import annotations

from pathlib import Path

from double import Double
from helpers import COMMIT, URL, RecordingClock, gitlab_env, loaded, ready_report, ref

from deploytag.service import feedback
from deploytag.service.feedback_body import marker


def run(
    tmp_path: Path, env: dict[str, str], clock: RecordingClock, branch: str = "changes", **report: object
) -> list[str]:
    cfg = loaded(tmp_path)
    warnings: list[str] = []
    s = feedback.open_session(loaded=cfg, environ=env, clock=clock, warn=warnings.append)
    assert s is not None
    feedback.reported_deploy(
        s, loaded=cfg, ref=ref(branch), clock=clock, deploy=lambda: ready_report(branch=branch, **report)
    )
    return warnings


def test_the_note_is_found_across_pages_and_edited_and_the_status_links_the_environment(
    tmp_path: Path, double: Double, clock: RecordingClock
) -> None:
    double.merge_requests[7] = {"source_branch": "changes", "state": "opened"}
    for i in range(120):
        double.add_note(7, f"note {i}")
    # A system note quoting the marker (GitLab writes them on edits) is never the one edited.
    double.add_note(7, f"changed the description {marker(app='shop', branch='changes')}", system=True)

    assert run(tmp_path, gitlab_env(double), clock) == []
    [ours] = [
        n for n in double.notes[7] if not n["system"] and marker(app="shop", branch="changes") in n["body"]
    ]
    assert "**ready**" in ours["body"] and f"[{URL}]({URL})" in ours["body"]
    assert len(double.notes[7]) == 122
    assert (
        len(double.calls_to("GET", r"/api/v4/projects/278964/merge_requests/7/notes")) == 2 * 2
    )  # 2 pages, 2 writes

    assert run(tmp_path, gitlab_env(double), clock, outcome="unchanged") == []
    assert len(double.notes[7]) == 122  # edited again, never duplicated
    assert len(double.calls_to("PUT", rf"/api/v4/projects/278964/merge_requests/7/notes/{ours['id']}")) == 3
    assert [(st["state"], st.get("target_url"), st["name"]) for st in double.gitlab_statuses][:2] == [
        ("running", None, "deploytag/shop"),
        ("success", URL, "deploytag/shop"),
    ]
    assert {st["sha"] for st in double.gitlab_statuses} == {COMMIT}
    for call in double.calls:
        assert call.headers["private-token"] == double.token and double.token not in call.raw_target


def test_a_branch_pipeline_finds_the_merge_request_by_source_branch(
    tmp_path: Path, double: Double, clock: RecordingClock
) -> None:
    double.merge_requests[11] = {"source_branch": "feature/x", "state": "opened"}
    env = gitlab_env(double, CI_MERGE_REQUEST_IID="", CI_MERGE_REQUEST_SOURCE_BRANCH_NAME="")

    assert run(tmp_path, env, clock, branch="feature/x") == []

    [lookup] = double.calls_to("GET", r"/api/v4/projects/278964/merge_requests")
    assert (lookup.query["source_branch"], lookup.query["state"]) == ("feature/x", "opened")
    assert len(double.notes[11]) == 1


def test_a_failed_deploy_says_failed_with_the_digest(
    tmp_path: Path, double: Double, clock: RecordingClock
) -> None:
    double.merge_requests[7] = {"source_branch": "changes", "state": "opened"}
    digest = "deployment/web: 0/1 ready\n  pod web-1: CrashLoopBackOff\n  log: DATABASE_URL=postgres://app:s3cr3tpw@db/app"
    warnings = run(
        tmp_path,
        gitlab_env(double),
        clock,
        outcome="failed",
        urls=[],
        error="rollout of web cannot start",
        digest=digest,
    )
    assert warnings == []
    [note] = double.notes[7]
    assert "**failed**" in note["body"] and "CrashLoopBackOff" in note["body"]
    assert "s3cr3tpw" not in note["body"]  # the existing scrubbing: credentials in URLs
    assert double.gitlab_statuses[-1]["state"] == "failed"
    assert double.gitlab_statuses[-1]["description"].startswith("Deploy failed: rollout of web cannot start")


def test_a_job_with_an_environment_gets_its_url(
    tmp_path: Path, double: Double, clock: RecordingClock
) -> None:
    double.merge_requests[7] = {"source_branch": "changes", "state": "opened"}
    double.environments[4] = {"name": "review/other", "external_url": None}
    double.environments[5] = {"name": "review/changes", "external_url": None}
    env = gitlab_env(double, CI_ENVIRONMENT_NAME="review/changes")

    assert run(tmp_path, env, clock) == []
    assert double.environments[5]["external_url"] == URL and double.environments[4]["external_url"] is None

    assert run(tmp_path, env, clock) == []
    assert (
        len(double.calls_to("PUT", r"/api/v4/projects/278964/environments/5")) == 1
    )  # already right: left alone
    assert run(tmp_path, gitlab_env(double), clock) == []  # a job without an environment asks nothing
    assert len(double.calls_to("GET", r"/api/v4/projects/278964/environments")) == 2
