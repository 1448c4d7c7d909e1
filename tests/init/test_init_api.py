"""``deploytag.api.init`` in-process: typed options in, a typed report out, the same files as the CLI."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from initrepos import chart, make_repo

from deploytag import api
from deploytag.core.errors import ChartError, ConfigError, UsageError


def _runtime(repo: Path) -> api.Runtime:
    return api.Runtime(stdout=io.StringIO(), stderr=io.StringIO(), environ={}, repo=repo)


def test_init_reports_each_file_and_refuses_a_second_time(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop", {**chart(), "Dockerfile": "FROM x\n", "go.mod": "module shop\n"})
    first = api.init(runtime=_runtime(repo), options=api.InitOptions(ci="gitlab"))
    assert isinstance(first, api.InitReport)
    assert first.files == [
        api.InitFile("deploytag.yaml", "written"),
        api.InitFile(".gitlab-ci.yml", "written"),
    ]
    assert not first.refused
    assert first.to_dict()["detected"]["test"] == ["go", "test", "./..."]

    second = api.init(runtime=_runtime(repo), options=api.InitOptions(ci="gitlab"))
    assert second.refused
    assert {f.action for f in second.files} == {"skipped"}

    forced = api.init(runtime=_runtime(repo), options=api.InitOptions(force=True, app="other"))
    assert forced.files == [api.InitFile("deploytag.yaml", "overwritten")]
    assert "app: other" in (repo / "deploytag.yaml").read_text()


def test_bad_input_raises_before_anything_is_written(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app", chart())
    with pytest.raises(UsageError):
        api.init(runtime=_runtime(repo), options=api.InitOptions(ci="circleci"))
    empty = make_repo(tmp_path / "empty", {"README.md": "x\n"})
    with pytest.raises(ChartError):
        api.init(runtime=_runtime(empty), options=api.InitOptions(ci="github"))
    assert not (repo / "deploytag.yaml").exists()
    assert sorted(p.name for p in empty.iterdir()) == ["README.md"]


def test_the_workflow_follows_the_deploytag_yaml_that_stays(tmp_path: Path) -> None:
    """Detection would add a database (alembic.ini); the kept configuration has none, other branches
    and AWS secrets: the workflows follow the configuration CI will read."""
    kept = (
        "app: svc\n"
        "branches:\n  previews: ['story/*']\n  permanent: {trunk: {environment: qa}}\n"
        "secrets: {provider: aws, ids: [qa/svc]}\n"
    )
    repo = make_repo(tmp_path / "svc", {**chart(), "alembic.ini": "", "deploytag.yaml": kept})
    github = api.init(runtime=_runtime(repo), options=api.InitOptions(ci="github"))
    assert github.files == [
        api.InitFile("deploytag.yaml", "skipped"),
        api.InitFile(".github/workflows/deploytag.yml", "written"),
    ]
    workflow = (repo / ".github/workflows/deploytag.yml").read_text()
    assert 'branches: ["story/**", "trunk"]' in workflow
    assert "DEPLOYTAG_DATABASE_ADMIN_URL" not in workflow
    assert "pip install 'deploytag[aws]'" in workflow

    api.init(runtime=_runtime(repo), options=api.InitOptions(ci="gitlab"))
    gitlab = (repo / ".gitlab-ci.yml").read_text()
    assert "deploytag:qa:" in gitlab and '$CI_COMMIT_BRANCH == "trunk"' in gitlab
    assert r"$CI_COMMIT_BRANCH =~ /^(story\/.*)$/" in gitlab
    assert (repo / "deploytag.yaml").read_text() == kept


def test_a_permanent_branch_a_ci_rule_cannot_hold_is_one_line(tmp_path: Path) -> None:
    kept = "app: svc\nbranches:\n  permanent: {'rel\"ease': {environment: prod}}\n"
    repo = make_repo(tmp_path / "svc", {**chart(), "deploytag.yaml": kept})
    with pytest.raises(ConfigError) as err:
        api.init(runtime=_runtime(repo), options=api.InitOptions(ci="gitlab"))
    assert "\n" not in str(err.value)
    assert not (repo / ".gitlab-ci.yml").exists()
