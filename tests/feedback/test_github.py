"""GitHub feedback against the local double: one comment, found by its marker and edited in place."""

from __future__ import annotations

from pathlib import Path

from double import Double
from helpers import COMMIT, URL, RecordingClock, destroy_report, github_env, loaded, ready_report, ref

from deploytag.core.config import LoadedConfig
from deploytag.service import feedback
from deploytag.service.feedback_body import ExpiringNotice, marker


def session(
    cfg: LoadedConfig,
    env: dict[str, str],
    clock: RecordingClock,
    warnings: list[str],
    *,
    enabled: bool | None = None,
    pull_request: int | None = None,
) -> feedback.FeedbackSession:
    opened = feedback.open_session(
        loaded=cfg,
        environ=env,
        clock=clock,
        warn=warnings.append,
        choice=feedback.FeedbackChoice(enabled=enabled, pull_request=pull_request),
    )
    assert opened is not None
    return opened


def deploy(s: feedback.FeedbackSession, cfg: LoadedConfig, branch: str = "changes", **report: object) -> None:
    feedback.reported_deploy(
        s, loaded=cfg, ref=ref(branch), clock=s.clock, deploy=lambda: ready_report(branch=branch, **report)
    )


def test_the_comment_is_created_once_then_edited_and_the_status_carries_the_url(
    tmp_path: Path, double: Double, clock: RecordingClock
) -> None:
    double.pulls[2] = {"head": "changes", "state": "open"}
    cfg = loaded(tmp_path)
    warnings: list[str] = []
    s = session(cfg, github_env(double), clock, warnings)
    header = feedback._header(cfg, ref())
    assert header is not None

    s.deploying(header=header, commit=COMMIT, started_at=clock.now())
    [comment] = double.comments[2]
    assert comment["body"].startswith(marker(app="shop", branch="changes"))
    assert "**deploying**" in comment["body"] and COMMIT[:12] in comment["body"]

    s.deployed(
        header=header, report=ready_report(), started_at=clock.now(), database="shop_changes (postgres)"
    )
    [edited] = double.comments[2]  # the same comment, edited: never a second one
    assert edited["id"] == comment["id"]
    body = edited["body"]
    assert "**ready**" in body and f"[{URL}]({URL})" in body and f"`{COMMIT[:12]}`" in body
    assert "registry.example.com/shop/web:" in body and "shop_changes (postgres)" in body
    assert "Deploy took | 42 s" in body  # the example event's push is years old: not this push
    assert len(double.calls_to("PATCH", r"/repos/.*/issues/comments/\d+")) == 1
    assert not double.calls_to("GET", r"/repos/.*/pulls")  # the event named the pull request
    assert [(st["state"], st.get("target_url"), st["context"]) for st in double.statuses] == [
        ("pending", None, "deploytag/shop"),
        ("success", URL, "deploytag/shop"),
    ]
    assert {st["sha"] for st in double.statuses} == {COMMIT}
    assert warnings == []


def test_the_marker_is_found_on_a_later_page_and_edited(
    tmp_path: Path, double: Double, clock: RecordingClock
) -> None:
    double.pulls[2] = {"head": "changes", "state": "open"}
    for i in range(150):
        double.add_comment(2, f"review comment {i}")
    double.add_comment(2, f"{marker(app='other', branch='changes')}\nanother app's comment")
    ours = double.add_comment(2, f"{marker(app='shop', branch='changes')}\nold", login="github-actions[bot]")
    double.add_comment(2, "a later comment")
    cfg = loaded(tmp_path)
    warnings: list[str] = []

    deploy(session(cfg, github_env(double), clock, warnings), cfg)

    assert len(double.comments[2]) == 153
    assert ours["body"].startswith(marker(app="shop", branch="changes")) and "**ready**" in ours["body"]
    assert "old" not in ours["body"]
    # GitHub's next page is a /repositories/{id}/ URL (as recorded in @octokit/fixtures): followed.
    assert double.calls_to("GET", rf"/repositories/{double.repository_id}/issues/2/comments")
    assert not double.calls_to("POST", r"/repos/.*/issues/2/comments")
    assert warnings == []


def test_a_push_build_finds_the_pull_request_by_branch(
    tmp_path: Path, double: Double, clock: RecordingClock
) -> None:
    double.pulls[7] = {"head": "feature/x", "state": "open"}
    double.pulls[3] = {"head": "feature/x", "state": "closed"}
    cfg = loaded(tmp_path)
    warnings: list[str] = []
    env = github_env(double, GITHUB_EVENT_PATH="", GITHUB_REF="refs/heads/feature/x", GITHUB_HEAD_REF="")

    deploy(session(cfg, env, clock, warnings), cfg, branch="feature/x")

    [lookup] = double.calls_to("GET", r"/repos/Codertocat/Hello-World/pulls")
    assert (lookup.query["head"], lookup.query["state"]) == ("Codertocat:feature/x", "open")
    assert len(double.comments[7]) == 1 and 3 not in double.comments
    assert warnings == []


def test_github_ref_names_the_pull_request_without_an_event_file(
    tmp_path: Path, double: Double, clock: RecordingClock
) -> None:
    double.pulls[5] = {"head": "feature/y", "state": "open"}
    cfg = loaded(tmp_path)
    warnings: list[str] = []
    env = github_env(
        double, GITHUB_EVENT_PATH="", GITHUB_REF="refs/pull/5/merge", GITHUB_HEAD_REF="feature/y"
    )

    deploy(session(cfg, env, clock, warnings), cfg, branch="feature/y")

    assert len(double.comments[5]) == 1
    assert not double.calls_to("GET", r"/repos/.*/pulls")


def test_no_open_pull_request_means_a_status_but_no_comment(
    tmp_path: Path, double: Double, clock: RecordingClock
) -> None:
    cfg = loaded(tmp_path)
    warnings: list[str] = []
    notes: list[str] = []
    env = github_env(double, GITHUB_EVENT_PATH="", GITHUB_REF="refs/heads/feature/z", GITHUB_HEAD_REF="")
    s = session(cfg, env, clock, warnings)
    s.note = notes.append

    deploy(s, cfg, branch="feature/z")

    assert double.comments == {} and [st["state"] for st in double.statuses] == ["pending", "success"]
    assert warnings == [] and any("no open GitHub request for feature/z" in n for n in notes)


def test_destroy_turns_the_comment_into_the_receipt(
    tmp_path: Path, double: Double, clock: RecordingClock
) -> None:
    double.pulls[2] = {"head": "changes", "state": "open"}
    cfg = loaded(tmp_path)
    warnings: list[str] = []
    s = session(cfg, github_env(double), clock, warnings)
    deploy(s, cfg)

    feedback.reported_destroy(s, loaded=cfg, ref=ref(), destroy=destroy_report)

    [comment] = double.comments[2]
    body = comment["body"]
    assert "**destroyed**" in body and "| namespace | `shop-changes` | yes |" in body
    assert "| helm release | `shop-changes` | yes |" in body and URL not in body
    assert len(double.statuses) == 2  # destroy sets no status on an old commit


def test_expiring_soon_uses_each_branchs_own_pull_request(
    tmp_path: Path, double: Double, clock: RecordingClock
) -> None:
    """gc runs for many branches: the CI event's pull request (#2, "changes") is not theirs."""
    double.pulls[2] = {"head": "changes", "state": "open"}
    double.pulls[9] = {"head": "feature/old", "state": "open"}
    cfg = loaded(tmp_path)
    warnings: list[str] = []
    expires = clock.now() + 3 * 3600

    feedback.notify_expiring(
        loaded=cfg,
        environ=github_env(double),
        clock=clock,
        warn=warnings.append,
        notices=[
            ExpiringNotice(
                app="shop",
                branch="feature/old",
                expires_at=expires,
                urls=[URL],
                reason="no deploy for 7 days",
            )
        ],
    )

    assert 2 not in double.comments
    [comment] = double.comments[9]
    assert "**expiring soon**" in comment["body"] and "no deploy for 7 days" in comment["body"]
    assert "(in 2 h 59 min)" in comment["body"] or "(in 3 h 0 min)" in comment["body"]
    assert warnings == []


def test_feedback_is_off_outside_ci_and_says_why_when_asked_for(
    tmp_path: Path, clock: RecordingClock
) -> None:
    cfg = loaded(tmp_path)
    warnings: list[str] = []
    assert feedback.open_session(loaded=cfg, environ={}, clock=clock, warn=warnings.append) is None
    assert warnings == []
    asked = feedback.FeedbackChoice(enabled=True)
    assert (
        feedback.open_session(loaded=cfg, environ={}, clock=clock, warn=warnings.append, choice=asked) is None
    )
    assert len(warnings) == 1 and "no GitHub Actions or GitLab CI variables" in warnings[0]
    env = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "o/r"}
    assert (
        feedback.open_session(loaded=cfg, environ=env, clock=clock, warn=warnings.append, choice=asked)
        is None
    )
    assert "no token: set DEPLOYTAG_GITHUB_TOKEN or GITHUB_TOKEN" in warnings[1]
    off = feedback.FeedbackChoice(enabled=False)
    env["GITHUB_TOKEN"] = "ghp_x"
    assert (
        feedback.open_session(loaded=cfg, environ=env, clock=clock, warn=warnings.append, choice=off) is None
    )


def test_the_token_can_come_from_the_secret_store(
    tmp_path: Path, double: Double, clock: RecordingClock
) -> None:
    from deploytag.adapters.plugins import load_provider

    double.pulls[2] = {"head": "changes", "state": "open"}
    cfg = loaded(tmp_path, "feedback:\n  token_secret_id: ci/feedback\n")
    (cfg.root / "secrets.local.yaml").write_text(f"ci/feedback:\n  GITHUB_TOKEN: {double.token}\n")
    store = load_provider("deploytag.secret_stores", "file").from_config(
        config=cfg.config.secrets, root=cfg.root
    )
    env = github_env(double, GITHUB_TOKEN="")
    warnings: list[str] = []

    s = feedback.open_session(
        loaded=cfg, environ=env, clock=clock, warn=warnings.append, secret_store=lambda: store
    )

    assert s is not None
    feedback.reported_deploy(s, loaded=cfg, ref=ref(), clock=clock, deploy=ready_report)
    assert len(double.comments[2]) == 1 and warnings == []
