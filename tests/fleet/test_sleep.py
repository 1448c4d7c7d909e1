"""`deploytag sleep` / `wake`: the installed CLI against the real API server, and the edge cases in memory.

Without a node no pod starts, which is fine here: sleep and wake change spec.replicas, read
back through the official client, never through the code under test.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from deploytag import api
from deploytag.adapters.memory.cluster import MemoryCluster
from deploytag.core.errors import ExitStatus, NotFoundError
from deploytag.ports.cluster import WorkloadState
from deploytag.service.sleep import SLEEPING
from fleetsetup import COMMIT, configured, example_repo, live_environment, new_app
from realkube import RealKube

DEPLOYTAG = Path(sys.executable).parent / "deploytag"


def cli(repo: Path, kube: RealKube, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI")}
    env.update(
        DEPLOYTAG_CLUSTER__PROVIDER="kubernetes",
        DEPLOYTAG_CLUSTER__KUBECONFIG=str(kube.kubeconfig),
        GITLAB_USER_LOGIN="tester",
    )
    if kube.context:
        env["DEPLOYTAG_CLUSTER__CONTEXT"] = kube.context
    return subprocess.run(
        [str(DEPLOYTAG), "--repo", str(repo), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _workloads(apps: Any, namespace: str) -> None:
    for kind, name, replicas in (("Deployment", "web", 2), ("StatefulSet", "cache", 1)):
        labels = {"app": name}
        spec: dict[str, Any] = {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            },
        }
        if kind == "Deployment":
            apps.create_namespaced_deployment(namespace, {"metadata": {"name": name}, "spec": spec})
        else:
            spec["serviceName"] = name
            apps.create_namespaced_stateful_set(namespace, {"metadata": {"name": name}, "spec": spec})


@pytest.mark.cluster
def test_sleep_and_wake_through_the_cli_on_the_real_cluster(tmp_path: Path, real_kube: RealKube) -> None:
    from kubernetes import client, config

    repo, app = example_repo(tmp_path), new_app()
    (repo / "deploytag.yaml").write_text(
        (repo / "deploytag.yaml").read_text().replace("app: guestbook", f"app: {app}")
    )
    branch = f"feature/nap-{app}"
    from deploytag.adapters.kubernetes import KubernetesCluster

    cluster = KubernetesCluster(kubeconfig=str(real_kube.kubeconfig), context=real_kube.context)
    loaded, _ = configured(repo, app=app, cluster=cluster)
    namespace = live_environment(cluster, loaded, branch)
    sdk = config.new_client_from_config(config_file=str(real_kube.kubeconfig), context=real_kube.context)
    apps = client.AppsV1Api(sdk)
    try:
        _workloads(apps, namespace)

        def replicas() -> dict[str, int]:
            found = {
                f"Deployment/{d.metadata.name}": d.spec.replicas
                for d in apps.list_namespaced_deployment(namespace).items
            }
            found |= {
                f"StatefulSet/{s.metadata.name}": s.spec.replicas
                for s in apps.list_namespaced_stateful_set(namespace).items
            }
            return found

        slept = cli(repo, real_kube, "sleep", "--branch", branch, "-o", "json")
        assert slept.returncode == 0, slept.stderr
        report = json.loads(slept.stdout)
        assert (report["schema"], report["outcome"], report["sleeping"]) == (
            "deploytag.sleep/v1",
            "changed",
            True,
        )
        assert replicas() == {"Deployment/web": 0, "StatefulSet/cache": 0}
        record = json.loads(client.CoreV1Api(sdk).read_namespace(namespace).metadata.annotations[SLEEPING])
        assert (
            record["replicas"] == {"Deployment/web": 2, "StatefulSet/cache": 1}
            and record["by"] == "gitlab:tester"
        )

        again = cli(repo, real_kube, "sleep", "--branch", branch)
        assert again.returncode == 0 and "already asleep" in again.stdout, again.stderr
        record = json.loads(client.CoreV1Api(sdk).read_namespace(namespace).metadata.annotations[SLEEPING])
        assert record["replicas"] == {"Deployment/web": 2, "StatefulSet/cache": 1}  # the originals, kept

        listed = cli(repo, real_kube, "list", "-o", "json")
        rows = json.loads(listed.stdout)["environments"]
        assert [r["sleeping"] for r in rows if r["namespace"] == namespace] == [True]
        assert "(asleep)" in cli(repo, real_kube, "list").stdout
        status = cli(repo, real_kube, "status", "--branch", branch)
        assert status.returncode == 0 and "asleep" in status.stdout, status.stderr

        woke = cli(repo, real_kube, "wake", "--branch", branch)
        assert woke.returncode == 0, woke.stderr
        assert "deployment web: 0 -> 2 replicas" in woke.stdout
        assert replicas() == {"Deployment/web": 2, "StatefulSet/cache": 1}
        assert SLEEPING not in (client.CoreV1Api(sdk).read_namespace(namespace).metadata.annotations or {})
        awake = cli(repo, real_kube, "wake", "--branch", branch, "-o", "json")
        assert json.loads(awake.stdout)["outcome"] == "unchanged"
        assert replicas() == {"Deployment/web": 2, "StatefulSet/cache": 1}

        missing = cli(repo, real_kube, "sleep", "--branch", f"feature/none-{app}")
        assert missing.returncode == int(ExitStatus.NOT_FOUND)
        assert "has no environment" in missing.stderr and len(missing.stderr.strip().splitlines()) <= 2
    finally:
        cluster.delete_namespace(name=namespace, wait=False, timeout_seconds=0)
        sdk.close()


def _memory(tmp_path: Path) -> tuple[MemoryCluster, api.Runtime, str]:
    cluster = MemoryCluster()
    repo, app = example_repo(tmp_path), new_app()
    loaded, providers = configured(repo, app=app, cluster=cluster)

    def shared(inv: Any, loaded: Any) -> Any:
        return providers

    runtime = api.Runtime(
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        environ={"DEPLOYTAG_APP": app, "DEPLOYTAG_CLUSTER__PROVIDER": "memory", "GITHUB_ACTOR": "octocat"},
        repo=repo,
        providers=shared,
    )
    return cluster, runtime, live_environment(cluster, loaded, "feature/x")


def _set(cluster: MemoryCluster, namespace: str, kind: str, name: str, replicas: int) -> None:
    cluster.add_workload(namespace=namespace, workload=WorkloadState(kind, name, replicas, 0, 0, 0, True))


def test_wake_keeps_what_someone_scaled_since_and_skips_what_is_gone(tmp_path: Path) -> None:
    cluster, runtime, namespace = _memory(tmp_path)
    _set(cluster, namespace, "Deployment", "web", 3)
    _set(cluster, namespace, "Deployment", "worker", 2)
    _set(cluster, namespace, "Deployment", "idle", 0)  # zero already: nothing to record
    _set(cluster, namespace, "DaemonSet", "agent", 1)  # no replica count: left running
    slept = api.sleep(runtime=runtime, options=api.SleepOptions(branch="feature/x", commit=COMMIT))
    assert sorted((w.name, w.before, w.after) for w in slept.workloads) == [("web", 3, 0), ("worker", 2, 0)]
    info = cluster.get_namespace(name=namespace)
    assert info is not None
    assert json.loads(info.annotations[SLEEPING])["by"] == "github:octocat"

    _set(cluster, namespace, "Deployment", "web", 1)  # someone scaled it by hand meanwhile
    _set(cluster, namespace, "Deployment", "new", 4)  # a deploy added one while asleep
    again = api.sleep(runtime=runtime, options=api.SleepOptions(branch="feature/x", commit=COMMIT))
    assert sorted((w.name, w.before) for w in again.workloads) == [("new", 4), ("web", 1)]
    info = cluster.get_namespace(name=namespace)
    assert info is not None
    assert json.loads(info.annotations[SLEEPING])["replicas"] == {
        "Deployment/web": 3,  # the original count survives a second sleep
        "Deployment/worker": 2,
        "Deployment/new": 4,
    }

    cluster._objects[namespace].workloads = [
        w for w in cluster.list_workloads(namespace=namespace) if w.name != "worker"
    ]
    _set(cluster, namespace, "Deployment", "web", 5)
    woke = api.wake(runtime=runtime, options=api.WakeOptions(branch="feature/x", commit=COMMIT))
    assert sorted((w.name, w.after) for w in woke.workloads) == [("new", 4)]
    desired = {w.name: w.desired for w in cluster.list_workloads(namespace=namespace)}
    assert desired == {"web": 5, "new": 4, "idle": 0, "agent": 1}
    assert api.list_environments(runtime=runtime)[0].sleeping is False


def test_sleep_of_a_branch_without_environment_is_not_found(tmp_path: Path) -> None:
    _, runtime, _ = _memory(tmp_path)
    with pytest.raises(NotFoundError) as missing:
        api.sleep(runtime=runtime, options=api.SleepOptions(branch="feature/other", commit=COMMIT))
    assert missing.value.exit_status == ExitStatus.NOT_FOUND
    assert "deploy it with" in (missing.value.hint or "")
