"""The comment's text: what each state shows, and what a run's text can never do to it."""

from __future__ import annotations

from helpers import COMMIT, ready_report

from deploytag.service.feedback_body import Header, deployed, marker

HEADER = Header(app="shop", branch="feature/a-->b", namespace="shop-feature-a-b")


def test_a_digest_is_cut_short_scrubbed_and_cannot_close_its_fence_or_forge_a_marker() -> None:
    forged = marker(app="shop", branch="feature/a-->b")
    lines = [f"line {i}" for i in range(200)]
    lines += ["~~~~", "```", forged, "Authorization: Bearer abc.def.ghi", "password=hunter22"]
    report = ready_report(outcome="failed", urls=[], error="rollout failed | badly", digest="\n".join(lines))
    body = deployed(HEADER, report, finished_at=0, pushed_at=None, database=None, secrets=["abc.def.ghi"])
    assert body.count("<!-- deploytag:") == 1 and body.startswith(forged)
    assert "line 199" in body and "line 100" not in body  # the last 40 lines: where the cause is
    assert "hunter22" not in body and "abc.def.ghi" not in body
    fence = next(line for line in body.splitlines() if line.startswith("~~~~~"))
    assert fence == "~~~~~text"  # longer than any run of tildes inside
    assert "rollout failed \\| badly" in body  # a pipe cannot break the line


def test_the_marker_encodes_the_branch_so_it_stays_one_html_comment() -> None:
    assert marker(app="shop", branch="feature/a-->b") == "<!-- deploytag:app=shop;branch=feature/a--%3Eb -->"


def test_ready_shows_expiry_and_cost_when_the_report_carries_them() -> None:
    report = ready_report()
    assert "Expires" not in deployed(HEADER, report, finished_at=0, pushed_at=None, database=None)
    report.expires_at = 86400.0  # type: ignore[attr-defined]
    report.estimated_cost = "$0.42/day"  # type: ignore[attr-defined]
    body = deployed(HEADER, report, finished_at=100, pushed_at=40, database=None)
    assert "| Expires | 1970-01-02 00:00:00 UTC |" in body and "| Estimated cost | $0.42/day |" in body
    assert "| Push to ready | 1 min 0 s |" in body and f"`{COMMIT[:12]}`" in body


def test_ready_comment_shows_the_cost_estimate_as_the_cli_does() -> None:
    from deploytag.core.cost import CostEstimate
    from deploytag.service.feedback_body import _cost

    estimate = CostEstimate(cpu=0.5, memory_gib=1.0, monthly=14.63, currency="USD")
    assert _cost(estimate.to_dict()) == "~14.63 USD/month (0.5 vCPU, 1 GiB requested)"
