"""The orphan sweep's own rules, in memory: kinds checked, a provider that cannot be read either
raises or (with ``skipped``) is recorded while the rest is still swept."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from deploytag.adapters.memory.cluster import MemoryCluster
from deploytag.core.errors import ConfigError, PlanError
from deploytag.service import orphans
from fleetsetup import configured, example_repo, namespace_for, new_app


def test_an_unreadable_kind_raises_or_is_recorded_while_the_rest_is_swept(tmp_path: Path) -> None:
    cluster, app = MemoryCluster(), new_app()
    # The example configures a PostgreSQL database, but this run has no admin URL.
    loaded, providers = configured(example_repo(tmp_path), app=app, cluster=cluster)
    gone = f"deploytag-{namespace_for(loaded, 'feature/gone')}"
    assert cluster.try_acquire_lease(
        namespace="default", name=gone, holder="r", duration_seconds=15, now=time.time() - 60
    )
    kinds = frozenset({orphans.DATABASE, orphans.LEASE})
    with pytest.raises(ConfigError):
        orphans.find_orphans(loaded=loaded, providers=providers, kinds=kinds, min_age_seconds=0)
    skipped: list[str] = []
    found = orphans.find_orphans(
        loaded=loaded, providers=providers, kinds=kinds, min_age_seconds=0, skipped=skipped
    )
    assert [(o.kind, o.name) for o in found] == [("lease", gone)]
    assert len(skipped) == 1 and skipped[0].startswith("database: ")


def test_unknown_kinds_are_refused(tmp_path: Path) -> None:
    loaded, providers = configured(example_repo(tmp_path), app=new_app(), cluster=MemoryCluster())
    with pytest.raises(PlanError, match="unknown orphan kind 'pods'"):
        orphans.find_orphans(loaded=loaded, providers=providers, kinds=frozenset({"pods"}))
