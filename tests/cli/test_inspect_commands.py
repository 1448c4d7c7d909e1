"""plan, config, values, render, lint as a user runs them (real helm, no cluster)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from cliutil import copy_example, run

COMMIT = "89abcdef0123456789abcdef0123456789abcdef"
PLAN_FIELDS = {
    "branch",
    "deploy",
    "environment",
    "namespace",
    "release",
    "images",
    "secret_keys",
    "database",
    "dns_records",
    "rendered_dir",
    "findings",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


def test_plan_json_has_the_documented_schema_and_renders(repo: Path, helm_bin: Path) -> None:
    result = run(repo, "plan", "--branch", "feature/login", "--commit", COMMIT, "-o", "json", helm=helm_bin)
    assert result.returncode == 0, result.stderr
    plan = result.json()
    assert set(plan) >= PLAN_FIELDS
    assert plan["deploy"] is True
    assert plan["environment"] == "preview"
    assert plan["secret_keys"] == ["DATABASE_PASSWORD", "SECRET_KEY"]
    assert plan["database"]["engine"] == "postgres"
    assert [r["template"] for r in plan["dns_records"]] == [
        "{.Branch}-guest-server-frontend-aws",
        "{.Branch}-guest-server-server-aws",
    ]
    rendered = Path(plan["rendered_dir"])
    kinds = {m["kind"] for m in plan["manifests"]}
    assert {"Deployment", "StatefulSet", "Service"} <= kinds
    for manifest in plan["manifests"]:
        assert (rendered / manifest["file"]).is_file()
    assert plan["findings"] == []
    docs = (Path(__file__).resolve().parents[2] / "docs" / "plan.md").read_text()
    for field in plan:
        assert f"`{field}`" in docs, f"plan field {field} is not documented in docs/plan.md"


def test_plan_never_shows_secret_values(repo: Path) -> None:
    (repo / "secrets.local.yaml").write_text("staging/app:\n  SECRET_KEY: very-secret-value-123\n")
    (repo / "secrets.local.yaml").chmod(0o600)
    for fmt in ("json", "text"):
        result = run(repo, "plan", "--branch", "feature/x", "--commit", COMMIT, "-o", fmt)
        assert result.returncode == 0, result.stderr
        assert "SECRET_KEY" in result.stdout
        assert "very-secret-value-123" not in result.stdout + result.stderr
    rendered = repo / ".deploytag" / "rendered"
    assert all("very-secret-value-123" not in p.read_text() for p in rendered.rglob("*") if p.is_file())


def test_plan_of_a_branch_without_rule_is_skipped(repo: Path) -> None:
    result = run(repo, "plan", "--branch", "chore/deps", "--commit", COMMIT, "-o", "json")
    assert result.returncode == 0
    plan = result.json()
    assert plan["deploy"] is False
    assert "matches no rule" in plan["skipped_reason"]


def test_plan_takes_the_branch_from_ci_variables(repo: Path) -> None:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REF_NAME": "bug/42",
        "GITHUB_REF_TYPE": "branch",
        "GITHUB_SHA": COMMIT,
    }
    plan = run(repo, "plan", "--no-render", "-o", "json", env=env).json()
    assert (plan["branch"], plan["commit"], plan["branch_source"]) == ("bug/42", COMMIT, "github")


def test_config_explain_shows_each_source(repo: Path) -> None:
    result = run(
        repo,
        "--cloud",
        "aws",
        "config",
        "--explain",
        "-o",
        "json",
        env={"DEPLOYTAG_CHART__TIMEOUT_SECONDS": "77"},
    )
    assert result.returncode == 0, result.stderr
    rows = {r["key"]: r for r in result.json()["settings"]}
    assert rows["secrets.provider"]["source"] == "flag"
    assert rows["chart.timeout_seconds"] == {
        "key": "chart.timeout_seconds",
        "value": 77,
        "source": "env DEPLOYTAG_CHART__TIMEOUT_SECONDS",
    }
    assert rows["app"]["source"] == "file deploytag.yaml"
    assert rows["cluster.lock_seconds"]["source"] == "default"
    text = run(repo, "config", "--explain")
    assert "file deploytag.yaml" in text.stdout


def test_values_explain_shows_layers_and_what_each_key_overrode(repo: Path) -> None:
    result = run(
        repo,
        "values",
        "--explain",
        "--branch",
        "feature/login",
        "--commit",
        COMMIT,
        "--set",
        "replicaCount=3",
        "-o",
        "json",
    )
    assert result.returncode == 0, result.stderr
    data = result.json()
    keys = {k["key"]: k for k in data["keys"]}
    assert keys["replicaCount"]["value"] == 3
    assert keys["replicaCount"]["source"] == "set --set"
    assert any("values.yaml" in o for o in keys["replicaCount"]["overrides"])
    assert keys["image.tag"]["source"].startswith("injected")
    assert keys["envSecretName"]["value"] == "guestbook-env"
    assert data["layers"][0].startswith("chart ")
    assert data["layers"][-1] == "set --set"


def test_render_writes_one_file_per_template(repo: Path, tmp_path: Path, helm_bin: Path) -> None:
    out = tmp_path / "out"
    result = run(
        repo,
        "render",
        "--branch",
        "feature/login",
        "--commit",
        COMMIT,
        "--out",
        str(out),
        "-o",
        "json",
        helm=helm_bin,
    )
    assert result.returncode == 0, result.stderr
    files = result.json()["files"]
    assert any(f.endswith("templates/deployment.yaml") for f in files)
    assert all((out / f).is_file() for f in files)


def test_lint_exit_status_follows_configured_severity(repo: Path) -> None:
    ok = run(repo, "lint", "--branch", "main", "--commit", COMMIT, "-o", "json")
    assert ok.returncode == 0, ok.stderr
    config = repo / "deploytag.yaml"
    config.write_text(config.read_text() + "\nlint:\n  severity:\n    min-replicas: error\n")
    bad = run(repo, "lint", "--branch", "main", "--commit", COMMIT, "--set", "replicaCount=1", "-o", "json")
    assert bad.returncode == 7
    findings = bad.json()["findings"]
    assert {f["rule"] for f in findings} == {"min-replicas"}
    assert all(f["severity"] == "error" for f in findings)
    assert ("Deployment", "guestbook-main") in {(f["kind"], f["name"]) for f in findings}
    rules = run(repo, "lint", "--list-rules", "-o", "json").json()["rules"]
    assert {r["rule"] for r in rules} >= {"image-tag-pinned", "no-nodeport", "run-as-non-root"}


def test_helm_missing_says_how_to_install(repo: Path, tmp_path: Path) -> None:
    result = run(
        repo,
        "plan",
        "--branch",
        "feature/x",
        "--commit",
        COMMIT,
        helm=tmp_path / "no-helm-here",
        env={"PATH": os.environ.get("PATH", "")},
    )
    assert result.returncode == 5
    assert "not installed" in result.stderr
    assert "tools/setup.sh" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (repo / ".deploytag").exists()


COLLIDING = """app: guestbook
branches:
  previews: ['feature*']
  permanent: {main: {environment: x, namespace: guestbook-feature-a}}
"""


@pytest.mark.parametrize(
    ("config", "branch", "status", "words"),
    [
        ("app: guestbook\nbranches: {previews: feature/*}\n", "feature/x", 3, "branches.previews"),
        ("app: guestbook\nchart: {path: missing}\n", "feature/x", 6, "no Helm chart at"),
        ("app: guestbook\ndns: {records: ['{.Nope}-web']}\n", "feature/x", 4, "unknown placeholder {.Nope}"),
        (COLLIDING, "feature-a", 4, "belongs to the permanent environment"),
        (
            "app: guestbook\ndns: {zone: example.com, records: ['{.Branch}-" + "x" * 55 + "']}\n",
            "feature/x",
            4,
            "cannot fit a 60-character label",
        ),
    ],
)
def test_bad_input_is_one_clear_line_and_a_distinct_status(
    repo: Path, config: str, branch: str, status: int, words: str
) -> None:
    (repo / "deploytag.yaml").write_text(config)
    result = run(repo, "plan", "--branch", branch, "--commit", COMMIT)
    assert result.returncode == status, result.stderr
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("deploytag: error: ")
    assert not (repo / ".deploytag").exists()


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_branch_and_commit_come_from_git_when_not_given(repo: Path) -> None:
    git(repo, "init", "-q", "-b", "feature/from-git")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    head = git(repo, "rev-parse", "HEAD")
    plan = run(repo, "plan", "--no-render", "-o", "json").json()
    assert (plan["branch"], plan["commit"], plan["branch_source"]) == ("feature/from-git", head, "git")
    git(repo, "checkout", "-q", "--detach")
    detached = run(repo, "plan", "--no-render")
    assert detached.returncode == 4
    assert "pass --branch" in detached.stderr
