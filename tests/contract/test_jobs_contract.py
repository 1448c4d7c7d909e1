"""The Jobs capability (migrations run in the cluster), against every cluster backend.

On the real cluster the Jobs run on the session's node (``real_node``), from a busybox image
in its registry (``backend.image``); the fakes only read the command.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from cluster_backends import Backend

from deploytag.ports.cluster import MANAGED_BY_LABEL, MANAGED_BY_VALUE, JobSpec

OURS = {MANAGED_BY_LABEL: MANAGED_BY_VALUE}


def spec(backend: Backend, namespace: str, script: str) -> JobSpec:
    return JobSpec(
        namespace=namespace,
        name="app-migrate",
        image=backend.image,
        command=["sh", "-c", script],
        env_secret="app-env",
        labels={**OURS, "deploytag.dev/job": "migrate"},
    )


@pytest.fixture
def with_secret(backend: Backend, namespace: str) -> str:
    backend.cluster.apply_secret(
        namespace=namespace, name="app-env", data={"DATABASE_URL": "x"}, labels=OURS, annotations={}
    )
    return namespace


def test_a_job_that_exits_zero_succeeds_with_its_logs(backend: Backend, with_secret: str) -> None:
    backend.require_node()
    result = backend.cluster.run_job(
        spec=spec(backend, with_secret, "echo migrating; echo 2 applied; exit 0"),
        timeout_seconds=60,
        log_lines=10,
    )
    assert result.succeeded and result.reason == "Complete"
    assert "2 applied" in result.logs


def test_a_failing_job_reports_failure_and_the_log_tail(backend: Backend, with_secret: str) -> None:
    backend.require_node()
    script = "; ".join(f"echo line {i}" for i in range(30)) + "; echo relation missing; exit 3"
    result = backend.cluster.run_job(spec=spec(backend, with_secret, script), timeout_seconds=60, log_lines=5)
    assert not result.succeeded and result.reason
    assert result.logs.splitlines() == ["line 26", "line 27", "line 28", "line 29", "relation missing"]


def test_a_job_of_the_same_name_is_replaced(backend: Backend, with_secret: str) -> None:
    backend.require_node()
    first = backend.cluster.run_job(
        spec=spec(backend, with_secret, "echo one; exit 1"), timeout_seconds=60, log_lines=5
    )
    second = backend.cluster.run_job(
        spec=spec(backend, with_secret, "echo two; exit 0"), timeout_seconds=60, log_lines=5
    )
    assert not first.succeeded and second.succeeded
    assert second.logs.strip() == "two"


def test_a_job_still_running_at_the_timeout_fails_as_timeout(
    backend: Backend, with_secret: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend.id == "fakeapi":
        # The fake completes restartPolicy Never pods at once unless its Jobs really run.
        request.getfixturevalue("fake_api").run_jobs_in = tmp_path
    try:
        result = backend.cluster.run_job(
            spec=spec(backend, with_secret, "echo started; sleep 4"), timeout_seconds=1.5, log_lines=5
        )
    finally:
        if backend.id == "fakeapi":
            request.getfixturevalue("fake_api").run_jobs_in = None
    assert not result.succeeded and result.reason == "Timeout"


def test_a_job_sees_the_secret_as_environment(
    backend: Backend, with_secret: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend.id == "memory":
        pytest.skip("the in-memory cluster runs no processes")
    backend.require_node()
    if backend.id == "fakeapi":
        request.getfixturevalue("fake_api").run_jobs_in = tmp_path
    try:
        result = backend.cluster.run_job(
            spec=spec(backend, with_secret, 'echo "url=$DATABASE_URL"'), timeout_seconds=60, log_lines=5
        )
    finally:
        if backend.id == "fakeapi":
            request.getfixturevalue("fake_api").run_jobs_in = None
    assert result.succeeded and result.logs.strip() == "url=x"


def test_a_job_reads_a_mounted_secret_and_reports_its_termination_message(
    backend: Backend, namespace: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """kaniko's shape: no command (the image's entrypoint, here busybox's none), args, a Secret
    mounted as files, and a result written to /dev/termination-log."""
    backend.require_node()
    backend.cluster.apply_secret(
        namespace=namespace,
        name="docker-config",
        data={"config.json": '{"auths": {}}'},
        labels=OURS,
        annotations={},
    )
    root = '"${FAKEKUBE_POD_ROOT:-}"'  # fakekube's stand-in for the pod's root filesystem
    job = JobSpec(
        namespace=namespace,
        name="app-build",
        image=backend.image,
        command=(),
        args=[
            "sh",
            "-c",
            f"cat {root}/kaniko/.docker/config.json; printf sha256:abc > {root}/dev/termination-log",
        ],
        labels=OURS,
        secret_mounts={"/kaniko/.docker": "docker-config"},
    )
    if backend.id == "memory":
        backend.cluster.job_message = lambda spec: "sha256:abc" if spec.secret_mounts else ""
        missing = msgspec.structs.replace(job, secret_mounts={"/kaniko/.docker": "nope"})
        assert not backend.cluster.run_job(spec=missing, timeout_seconds=5, log_lines=5).succeeded
    if backend.id == "fakeapi":
        fake = request.getfixturevalue("fake_api")
        fake.job_entrypoints = {backend.image: []}
        fake.run_jobs_in = tmp_path
    try:
        result = backend.cluster.run_job(spec=job, timeout_seconds=60, log_lines=5)
    finally:
        if backend.id == "fakeapi":
            fake.run_jobs_in = None
            fake.job_entrypoints = {}
    assert result.succeeded and result.message == "sha256:abc"
    if backend.id != "memory":
        assert result.logs.strip() == '{"auths": {}}'
