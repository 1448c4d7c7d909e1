"""The read-only checks run while a deploy reads the environment and takes its lease; a failed check
still stops the run before the environment changes, leaves no lease behind, and is the error reported.

helm that cannot run fails its check (``helm version``) on the real control plane.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from realapp import RealApp, destroy, kube_api, make_app, namespace_annotations

from realkube import RealKube

pytestmark = pytest.mark.cluster

BROKEN_HELM = {"DEPLOYTAG_TOOLS__HELM": "/nonexistent/helm"}


@pytest.fixture
def app(tmp_path: Path, real_kube: RealKube) -> Iterator[RealApp]:
    made = make_app(tmp_path, real_kube.kubeconfig, commits=2)
    yield made
    destroy(made)


def namespace_of(app: RealApp) -> str:
    return f"{app.app}-feature-order"


def lease_exists(api: Any, name: str) -> bool:
    import kubernetes

    leases = kubernetes.client.CoordinationV1Api(api).list_namespaced_lease("default")
    return any(item.metadata.name == name for item in leases.items)


def namespace_exists(api: Any, name: str) -> bool:
    import kubernetes

    names = kubernetes.client.CoreV1Api(api).list_namespace()
    return any(item.metadata.name == name for item in names.items)


def test_a_failed_check_creates_nothing_and_leaves_no_lease(app: RealApp) -> None:
    api = kube_api(app.kubeconfig)
    failed = app.deploy(app.commits[0], env=BROKEN_HELM)
    assert failed.returncode == 5, failed.stderr  # ExitStatus.TOOL_MISSING
    assert "helm (/nonexistent/helm) is not installed" in failed.stderr
    assert not namespace_exists(api, namespace_of(app))
    assert not lease_exists(api, f"deploytag-{namespace_of(app)}")


def test_a_failed_check_leaves_a_deployed_environment_as_it_was(app: RealApp) -> None:
    api = kube_api(app.kubeconfig)
    first = app.deploy(app.commits[0])
    assert first.returncode == 0, first.stderr
    before = namespace_annotations(api, namespace_of(app))
    failed = app.deploy(app.commits[1], env=BROKEN_HELM)
    assert failed.returncode == 5, failed.stderr
    assert "helm (/nonexistent/helm) is not installed" in failed.stderr
    after = namespace_annotations(api, namespace_of(app))
    assert after["deploytag.dev/commit"] == before["deploytag.dev/commit"] == app.commits[0]
    assert not lease_exists(api, f"deploytag-{namespace_of(app)}")
