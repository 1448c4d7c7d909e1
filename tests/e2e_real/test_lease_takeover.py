"""A killed run frees its environment within the lease's duration (cluster.lock_seconds, 15 s by
default, renewed every 5 s), against the real API server: kill -9 of a real `deploytag deploy`
mid-run, then a new run takes the lease over and converges."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from realapp import RealApp, deployed_commit, destroy, kube_api, make_app

from realkube import RealKube

pytestmark = pytest.mark.cluster

LOCK_SECONDS = 15  # the default, deliberately not overridden


@pytest.fixture
def app(tmp_path: Path, real_kube: RealKube) -> Iterator[RealApp]:
    made = make_app(tmp_path, real_kube.kubeconfig, commits=3)
    yield made
    destroy(made)


def lease(api: Any, name: str) -> Any:
    import kubernetes
    from kubernetes.client.exceptions import ApiException

    try:
        return kubernetes.client.CoordinationV1Api(api).read_namespaced_lease(name, "default")
    except ApiException as e:
        if e.status == 404:
            return None
        raise


def wait_for(predicate: Any, timeout: float, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not within {timeout} s")


@pytest.mark.timeout(300)
def test_a_killed_runs_environment_is_taken_over_within_the_lease(app: RealApp) -> None:
    c1, c2, c3 = app.commits
    first = app.deploy(c1)
    assert first.returncode == 0, first.stderr
    ns = first.json()["namespace"]
    lease_name = f"deploytag-{ns}"
    api = kube_api(app.kubeconfig)

    # A run that will sit in verify (its Deployment never becomes ready), holding the lease.
    victim = app.popen(*app.deploy_args(c2, "--set", "neverReady=true", "--timeout", "120"))
    held = wait_for(lambda: lease(api, lease_name), timeout=60)
    victim_holder = held.spec.holder_identity
    assert held.spec.lease_duration_seconds == LOCK_SECONDS
    time.sleep(6)  # past the first renewal: the run is deep in its work
    renewed = lease(api, lease_name)
    assert renewed.spec.holder_identity == victim_holder
    assert renewed.spec.renew_time > held.spec.renew_time  # renewed while it works
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    killed_at = time.monotonic()

    successor = app.popen(*app.deploy_args(c3, "--lock-wait", "60"))

    def taken() -> bool:
        current = lease(api, lease_name)
        return current is not None and current.spec.holder_identity not in (None, "", victim_holder)

    wait_for(taken, timeout=LOCK_SECONDS + 10)
    takeover = time.monotonic() - killed_at
    out, err = successor.communicate(timeout=120)
    converged = time.monotonic() - killed_at
    assert successor.returncode == 0, err
    assert "waiting up to 60 s" in err
    report = json.loads(out)
    assert report["outcome"] == "succeeded"
    assert deployed_commit(api, ns) == c3
    assert takeover <= LOCK_SECONDS + 2, takeover
    print(
        f"\nkill -9 mid-run: lease taken over after {takeover:.1f} s, new run converged after {converged:.1f} s"
    )
