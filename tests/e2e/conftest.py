"""Fixtures for the end-to-end CLI tests (see e2ehelpers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2ehelpers import App, copy_example

from fakekube import FailureRule, FakeKube
from fakekube.plugin import fakekube  # noqa: F401


@pytest.fixture
def app(tmp_path: Path, fakekube: FakeKube, helm_bin: Path) -> Iterator[App]:  # noqa: F811
    fakekube.failure_rules.insert(
        0, FailureRule("crashloop", "crashloop", log="booting\nKeyError: 'SECRET_KEY'\n")
    )
    fakekube.failure_rules.insert(0, FailureRule("doesnotexist", "imagepull"))
    return App(repo=copy_example(tmp_path), kube=fakekube, helm=helm_bin)
