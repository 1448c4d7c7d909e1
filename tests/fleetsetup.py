"""A configured app and its providers for the sleep and orphan-sweep tests, on any cluster and servers.

Each test gets its own app name (so its namespaces, DNS owners, database markers and image
repository are its own on shared servers) in a copy of the guestbook example.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig
from deploytag.ports.cluster import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Cluster
from deploytag.ports.providers import Providers
from deploytag.service.resolve import target_for
from deploytag.service.wiring import Invocation, build_providers, load

ROOT = Path(__file__).resolve().parents[1]
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def new_app() -> str:
    return f"sweep{secrets.token_hex(3)}"


def example_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "app"
    shutil.copytree(
        ROOT / "examples" / "guestbook",
        repo,
        ignore=shutil.ignore_patterns(".deploytag", "*.tgz", "Chart.lock", "__pycache__"),
    )
    return repo


def configured(
    repo: Path, *, app: str, cluster: Cluster, environ: Mapping[str, str] | None = None, **wired: Any
) -> tuple[LoadedConfig, Providers]:
    env = {"DEPLOYTAG_APP": app, "DEPLOYTAG_CLUSTER__PROVIDER": "memory", **(environ or {})}
    inv = Invocation(repo=repo, environ=env)
    loaded = load(inv)
    return loaded, build_providers(inv, loaded, cluster=cluster, **wired)


def namespace_for(loaded: LoadedConfig, branch: str) -> str:
    names = target_for(BranchRef(branch=branch, commit=COMMIT, source="flag"), loaded).names
    assert names is not None
    return names.namespace


def live_environment(
    cluster: Cluster, loaded: LoadedConfig, branch: str, annotations: Mapping[str, str] | None = None
) -> str:
    """A namespace as deploy leaves it: labelled as ours, recording its branch."""
    namespace = namespace_for(loaded, branch)
    cluster.ensure_namespace(
        name=namespace,
        labels={
            MANAGED_BY_LABEL: MANAGED_BY_VALUE,
            "deploytag.dev/app": loaded.config.app,
            "deploytag.dev/kind": "preview",
            "deploytag.dev/environment": "preview",
        },
        annotations={"deploytag.dev/branch": branch, **(annotations or {})},
    )
    return namespace
