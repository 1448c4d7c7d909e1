"""Fixtures for the end-to-end CLI tests (see e2ehelpers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2ehelpers import App, copy_example

from fakekube import FailureRule, FakeKube
from fakekube.plugin import fakekube  # noqa: F401
from servers.cloudflare import CloudflareDouble
from servers.postgres import PostgresServer


@pytest.fixture(scope="session")
def cloudflare_session() -> Iterator[CloudflareDouble]:
    double = CloudflareDouble(zone="example.com").start()
    yield double
    double.stop()


@pytest.fixture
def cloudflare(cloudflare_session: CloudflareDouble) -> CloudflareDouble:
    """The example's dns.provider is cloudflare: every e2e deploy writes its records here."""
    cloudflare_session.reset()
    return cloudflare_session


def dns_env(double: CloudflareDouble) -> dict[str, str]:
    return {
        "DEPLOYTAG_DNS__ZONE_ID": double.zone_id,
        "DEPLOYTAG_DNS__CLOUDFLARE__BASE_URL": double.base_url,
        "CLOUDFLARE_API_TOKEN": double.token,
    }


@pytest.fixture
def app(
    tmp_path: Path,
    fakekube: FakeKube,  # noqa: F811
    helm_bin: Path,
    cloudflare: CloudflareDouble,
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
        extra_env=dns_env(cloudflare),
    )
