"""Backends for the cluster contract: memory always, the fake API when present, a real cluster on demand."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from cluster_backends import Backend, MemoryBackend

REAL_KUBECONFIG = os.environ.get("DEPLOYTAG_TEST_KUBECONFIG")


def _real_backend() -> Backend:
    import kubernetes
    from cluster_backends import KubeBackend, KubeSeeder

    assert REAL_KUBECONFIG
    context = os.environ.get("DEPLOYTAG_TEST_CONTEXT") or None
    api = kubernetes.config.new_client_from_config(
        config_file=REAL_KUBECONFIG, context=context, persist_config=False
    )
    seeder = KubeSeeder(
        api, bad_image_ref="registry.invalid/deploytag/contract:missing", crash_image="busybox:1.36"
    )
    return KubeBackend(
        id="real",
        kubeconfig=REAL_KUBECONFIG,
        context=context,
        seeder=seeder,
        real=True,
        delete_timeout=180.0,
        address_timeout=60.0,
        rollout_timeout=180.0,
        describe_contains="context ",
    )


@pytest.fixture(
    params=[
        "memory",
        "fakeapi",
        pytest.param("real", marks=pytest.mark.cluster),
    ]
)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "memory":
        made: Backend = MemoryBackend()
    elif request.param == "fakeapi":
        made = request.getfixturevalue("fake_api_backend")
    else:
        if not REAL_KUBECONFIG:
            pytest.skip("set DEPLOYTAG_TEST_KUBECONFIG to run the contract against a real cluster")
        made = _real_backend()
    try:
        yield made
    finally:
        made.cleanup()


@pytest.fixture
def namespace(backend: Backend) -> str:
    """A fresh namespace of ours for the test's objects; deleted afterwards."""
    name = backend.new_namespace_name()
    backend.cluster.ensure_namespace(
        name=name, labels={"app.kubernetes.io/managed-by": "deploytag"}, annotations={}
    )
    return name


@pytest.fixture(scope="module")
def fake_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One fake API server (``tests/fakekube``) per test module."""
    try:
        from fakekube import FakeKube
    except ImportError:
        pytest.skip("tests/fakekube is not importable")
    with FakeKube(kubeconfig=tmp_path_factory.mktemp("fakekube") / "kubeconfig") as kube:
        yield kube


@pytest.fixture
def fake_api_backend(fake_api: Any) -> Backend:
    import kubernetes
    from cluster_backends import KubeBackend, KubeSeeder

    kubeconfig = str(fake_api.kubeconfig)
    api = kubernetes.config.new_client_from_config(config_file=kubeconfig, persist_config=False)
    # ":missing" and a plain ``sh -c 'echo ...; exit 3'`` are how the fake's kubelet fails a container.
    seeder = KubeSeeder(
        api, bad_image_ref="registry.example/deploytag/contract:missing", crash_image="busybox:1.36"
    )
    return KubeBackend(
        id="fakeapi",
        kubeconfig=kubeconfig,
        context=None,
        seeder=seeder,
        describe_contains=f"context {fake_api.context} ({fake_api.url})",
    )
