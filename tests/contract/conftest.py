"""Backends for the cluster contract: memory, the fake API, and the session's real cluster, always.

The real cluster is ``real_kube`` (tests/realkube.py): the ../shared/k8s control plane, with a node
when the session has one, or whatever ``DEPLOYTAG_TEST_KUBECONFIG`` points at. Under CI it fails
when it cannot start; it never skips.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cluster_backends import Backend, MemoryBackend

from realimages import NodeImages
from realkube import RealKube

# Without a node no pod starts and no image is pulled: any reference does.
NO_NODE_IMAGES = ("registry.invalid/deploytag-test/busybox:1", "registry.invalid/deploytag-test/app:missing")


def real_images(request: pytest.FixtureRequest, kube: RealKube) -> tuple[str, str]:
    """(busybox without an entrypoint, a reference whose pull fails) on this cluster."""
    if not (kube.has_node and kube.registry):
        return NO_NODE_IMAGES
    images: NodeImages = request.getfixturevalue("real_images")
    return images.busybox, images.missing


def _real_backend(request: pytest.FixtureRequest) -> Backend:
    import kubernetes
    from cluster_backends import KubeBackend, KubeSeeder

    kube: RealKube = request.getfixturevalue("real_kube")
    api = kubernetes.config.new_client_from_config(
        config_file=str(kube.kubeconfig), context=kube.context, persist_config=False
    )
    image, missing = real_images(request, kube)
    seeder = KubeSeeder(api, bad_image_ref=missing, crash_image=image, real=True)
    return KubeBackend(
        id="real",
        kubeconfig=str(kube.kubeconfig),
        context=kube.context,
        seeder=seeder,
        real=True,
        delete_timeout=120.0,
        address_timeout=30.0,
        rollout_timeout=120.0,
        describe_contains="context ",
        image=image,
        # Pods run only on a node: tests that need running containers ask for it.
        require_node=lambda: request.getfixturevalue("real_node"),
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
        made = _real_backend(request)
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
    # ":missing", ":oomkilled" and a plain ``sh -c 'echo ...; exit 3'`` are how the fake's kubelet
    # fails a container.
    seeder = KubeSeeder(
        api,
        bad_image_ref="registry.example/deploytag/contract:missing",
        crash_image="busybox:1.36",
        oom_image="busybox:oomkilled",  # fakekube's rule for "killed at its memory limit"
    )
    return KubeBackend(
        id="fakeapi",
        kubeconfig=kubeconfig,
        context=None,
        seeder=seeder,
        describe_contains=f"context {fake_api.context} ({fake_api.url})",
    )
