"""Fixtures for the end-to-end CLI tests (see e2ehelpers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2ehelpers import App, copy_example

from fakekube import FailureRule, FakeKube
from fakekube.plugin import fakekube  # noqa: F401
from servers.postgres import PostgresServer


@pytest.fixture
def app(
    tmp_path: Path,
    fakekube: FakeKube,  # noqa: F811
    helm_bin: Path,
    postgres_server: PostgresServer,
) -> Iterator[App]:
    fakekube.failure_rules.insert(
        0, FailureRule("crashloop", "crashloop", log="booting\nKeyError: 'SECRET_KEY'\n")
    )
    fakekube.failure_rules.insert(0, FailureRule("doesnotexist", "imagepull"))
    repo = copy_example(tmp_path)
    fakekube.run_jobs_in = repo  # the migration Job runs the example's migrate.py for real
    return App(
        repo=repo,
        kube=fakekube,
        helm=helm_bin,
        database_admin_url=postgres_server.admin_url,
    )
