"""cluster.quota.enabled switched off removes DeployTag's quota, on the real control plane; a redeploy
after a finished run that recorded none skips the deletes, a run that was killed after applying one
does not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from realapp import RealApp, destroy, kube_api, make_app, namespace_annotations

from realkube import RealKube

pytestmark = pytest.mark.cluster

QUOTA = "deploytag-default"
ON = {"DEPLOYTAG_CLUSTER__QUOTA__ENABLED": "true"}


@pytest.fixture
def app(tmp_path: Path, real_kube: RealKube) -> Iterator[RealApp]:
    made = make_app(tmp_path, real_kube.kubeconfig, commits=1)
    yield made
    destroy(made)


def quotas(api: Any, namespace: str) -> tuple[list[str], list[str]]:
    import kubernetes

    core = kubernetes.client.CoreV1Api(api)
    return (
        [q.metadata.name for q in core.list_namespaced_resource_quota(namespace).items],
        [r.metadata.name for r in core.list_namespaced_limit_range(namespace).items],
    )


def steps(result: Any) -> dict[str, str]:
    return {s["name"]: s["outcome"] for s in result.json()["steps"]}


def test_quota_off_removes_ours_also_after_a_killed_run(app: RealApp) -> None:
    import kubernetes

    commit = app.commits[-1]
    on = app.deploy(commit, env=ON)
    assert on.returncode == 0, on.stderr
    ns = on.json()["namespace"]
    api = kube_api(app.kubeconfig)
    assert quotas(api, ns) == ([QUOTA], [QUOTA])
    assert "deploytag.dev/quota" in namespace_annotations(api, ns)

    off = app.deploy(commit)  # the realapp's config has it off
    assert off.returncode == 0, off.stderr
    assert steps(off)["quota"] == "skipped"
    assert quotas(api, ns) == ([], [])
    assert "deploytag.dev/quota" not in namespace_annotations(api, ns)

    # A run that applied the quota and was killed: its objects are there, its progress says running.
    again = app.deploy(commit, env=ON)
    assert again.returncode == 0, again.stderr
    core = kubernetes.client.CoreV1Api(api)
    running = json.dumps({"run": "killed", "state": "running", "steps": {"quota": "changed"}})
    core.patch_namespace(
        ns,
        {"metadata": {"annotations": {"deploytag.dev/progress": running, "deploytag.dev/quota": None}}},
    )
    after_kill = app.deploy(commit)
    assert after_kill.returncode == 0, after_kill.stderr
    assert quotas(api, ns) == ([], [])
