"""`deploytag init` from the installed CLI: on copies of the example without its deploytag.yaml,
in a real git repository with a remote, and in a directory with no chart."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from initrepos import chart, make_repo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from cliutil import ROOT, copy_example, run

COMMIT = "0" * 40
# Where cliutil.run finds it: the repository's .tools/bin first, then PATH.
HELM = shutil.which("helm", path=os.pathsep.join([str(ROOT / ".tools" / "bin"), os.environ.get("PATH", "")]))


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def example(tmp_path: Path) -> Path:
    repo = copy_example(tmp_path)
    (repo / "deploytag.yaml").unlink()
    return repo


def test_init_writes_a_config_plan_accepts_as_it_is(example: Path) -> None:
    result = run(example, "init", "--ci", "github")
    assert result.returncode == 0, result.stderr
    assert "wrote deploytag.yaml" in result.stdout
    assert "wrote .github/workflows/deploytag.yml" in result.stdout
    # The example's own choices are found again: chart, values layers, base image, tests, migrations.
    text = (example / "deploytag.yaml").read_text()
    for expected in (
        "path: chart",
        "- deploy/values-preview.yaml",
        "base_dockerfile: Dockerfile.base",
        '["python", "-m", "unittest", "discover", "-s", "tests"]',
        'migrate: ["python", "migrate.py"]',
        "engine: postgres",
        'ids: ["staging/app"]',
    ):
        assert expected in text
    # With the embedded defaults, as the README's sandbox runs it: no cluster, no cloud, real helm.
    plan = run(example, "plan", "--branch", "feature/login", "--commit", COMMIT, "--output", "json")
    assert plan.returncode == 0, plan.stderr
    data = plan.json()
    assert data["namespace"].startswith("guestbook-feature-login")
    assert data["values_layers"][:3] == [
        "chart chart/values.yaml",
        "file deploy/values-common.yaml",
        "file deploy/values-preview.yaml",
    ]
    assert data["manifests"] and data["secret_keys"] == ["DATABASE_PASSWORD", "SECRET_KEY"]


def test_second_init_refuses_and_force_overwrites(example: Path) -> None:
    assert run(example, "init").returncode == 0
    config = example / "deploytag.yaml"
    config.write_text(config.read_text() + "# my edit\n")
    before = _tree(example)

    again = run(example, "init")
    assert again.returncode == 3
    assert "skipped deploytag.yaml (exists; --force overwrites it)" in again.stdout
    assert again.stderr.strip().splitlines() == [
        "deploytag: error: nothing written: deploytag.yaml exists already; add --force to overwrite"
    ]
    assert _tree(example) == before

    # A file that is missing is still written; the existing one is kept.
    partial = run(example, "init", "--ci", "gitlab")
    assert partial.returncode == 0, partial.stderr
    assert "skipped deploytag.yaml" in partial.stdout and "wrote .gitlab-ci.yml" in partial.stdout
    assert config.read_text().endswith("# my edit\n")

    forced = run(example, "init", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "overwrote deploytag.yaml" in forced.stdout
    assert "# my edit" not in config.read_text()


def test_dry_run_writes_nothing(example: Path) -> None:
    before = _tree(example)
    result = run(example, "init", "--ci", "gitlab", "--dry-run", "--output", "json")
    assert result.returncode == 0, result.stderr
    assert result.json()["files"] == [
        {"path": "deploytag.yaml", "action": "would-write"},
        {"path": ".gitlab-ci.yml", "action": "would-write"},
    ]
    assert _tree(example) == before


def test_no_chart_is_one_line_and_nothing_written(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app", {"Dockerfile": "FROM scratch\n", "pytest.ini": "[pytest]\n"})
    before = _tree(repo)
    result = run(repo, "init", "--ci", "github")
    assert result.returncode == 6
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "looked for chart/Chart.yaml, charts/*/Chart.yaml, helm/Chart.yaml" in lines[0]
    assert result.stdout == ""
    assert _tree(repo) == before


def test_bad_ci_value_is_one_line(example: Path) -> None:
    result = run(example, "init", "--ci", "jenkins")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "deploytag: error: --ci 'jenkins' is not a CI DeployTag writes for; use --ci github or --ci gitlab"
    ]
    assert not (example / "deploytag.yaml").exists()


def test_the_git_remote_names_the_app_and_the_registry(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "checkout", {**chart(), "Dockerfile": "FROM scratch\n"})
    for argv in (
        ["init", "-q"],
        ["remote", "add", "origin", "https://bot:t0ken@github.com/Acme/Web-Shop.git"],
    ):
        subprocess.run(["git", "-C", str(repo), *argv], check=True, capture_output=True)
    plain = run(repo, "init", "--dry-run")
    assert "hint: deploytag init --ci github also writes the CI workflow" in plain.stdout
    assert "remote           https://github.com/Acme/Web-Shop.git" in plain.stdout
    result = run(repo, "init", "--ci", "github", "--output", "json")
    assert result.returncode == 0, result.stderr
    report = result.json()
    assert report["detected"]["app"] == "web-shop"
    assert report["detected"]["remote"] == "https://github.com/Acme/Web-Shop.git"
    assert "t0ken" not in result.stdout
    assert "repository: ghcr.io/acme/web-shop" in (repo / "deploytag.yaml").read_text()
    assert "packages: write" in (repo / ".github/workflows/deploytag.yml").read_text()
    assert json.loads(json.dumps(report))["schema"] == "deploytag.init/v1"


def test_a_helm_create_chart_plans_with_the_written_config(tmp_path: Path) -> None:
    """No values files, no secrets file, no database: the defaults init writes still plan."""
    repo = make_repo(tmp_path / "fresh", {"Dockerfile": "FROM python:3.12\n", "pytest.ini": "[pytest]\n"})
    assert HELM is not None, "helm is missing: run tools/setup.sh"
    subprocess.run([HELM, "create", "chart"], cwd=repo, check=True, capture_output=True)
    assert run(repo, "init", "--ci", "gitlab").returncode == 0
    plan = run(repo, "plan", "--branch", "feature/x", "--commit", COMMIT, "--output", "json")
    assert plan.returncode == 0, plan.stderr
    assert plan.json()["images"] and plan.json()["manifests"]
