"""``deploytag.api.init`` in-process: typed options in, a typed report out, the same files as the CLI."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from initrepos import chart, make_repo

from deploytag import api
from deploytag.core.errors import ChartError, UsageError


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
