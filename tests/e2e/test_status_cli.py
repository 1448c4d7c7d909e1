"""`deploytag status`: one environment as the namespace records it, through the CLI."""

from __future__ import annotations

from e2ehelpers import COMMIT, SECRET_SENTINEL, App


def test_status_shows_what_the_deploy_recorded(app: App) -> None:
    deployed = app.deploy()
    assert deployed.returncode == 0, deployed.stderr
    report = deployed.json()

    shown = app.run("status", "--branch", "feature/login", "-o", "json")
    assert shown.returncode == 0, shown.stderr
    st = shown.json()
    assert st["schema"] == "deploytag.status/v1"
    env = st["environment"]
    assert (env["namespace"], env["branch"], env["outcome"]) == (
        report["namespace"],
        "feature/login",
        "succeeded",
    )
    assert env["commit"] == COMMIT[:8] and env["revision"] == "1"
    assert st["last_run"]["state"] == "succeeded"
    assert st["last_run"]["steps"] == {s["name"]: s["outcome"] for s in report["steps"]}
    assert st["database"]["database"] and st["database"]["role"]
    assert set(st["dns"]["names"]) == {
        u.split("://", 1)[1].rstrip("/") for u in report["urls"] if "example.com" in u
    }
    assert st["secret_versions"]

    text = app.run("status", "--branch", "feature/login")
    assert text.returncode == 0, text.stderr
    assert report["namespace"] in text.stdout and st["database"]["database"] in text.stdout
    for stream in (shown.stdout, text.stdout, shown.stderr, text.stderr):
        assert SECRET_SENTINEL not in stream


def test_status_of_a_branch_without_environment_exits_13(app: App) -> None:
    result = app.run("status", "--branch", "feature/never-deployed")
    assert result.returncode == 13
    assert "deploytag deploy --branch feature/never-deployed" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
