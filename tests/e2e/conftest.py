"""Fixtures for the end-to-end CLI tests on the real cluster and node (see e2ehelpers).

Per session: the cluster (tests/realkube.py ``real_node``), a PostgreSQL that pods reach at
10.88.0.1, the Python base image built from Debian packages (tests/nodeimages.py), buildah's
storage, and a stand-in cloud controller that gives LoadBalancer Services an address.
Per test: a copy of the example with a random app name, so tests never share a name.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2ehelpers import App, copy_example, random_app_name
from kubeapi import Kube, LoadBalancerController

from nodeimages import RuntimeImage, ensure_runtime_image, missing
from realkube import RealKube, unavailable
from servers import postgres
from servers.cloudflare import CloudflareDouble

HOST_FROM_POD = "10.88.0.1"  # the host on the node's pod bridge (../shared/k8s/README.md)
E2E_REPOSITORY = "deploytag-e2e/guestbook"  # one for the session: a branch's image is built once


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


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[postgres.PostgresServer]:
    """The session PostgreSQL, also open to the node's pods (the migration Job, the app's readiness)."""
    if postgres.bin_dir() is None:
        pytest.skip("PostgreSQL is not installed: apt-get install postgresql-15 (tools/system-packages.sh)")
    server = postgres.start(Path(tmp_path_factory.mktemp("postgres")), pod_network=postgres.POD_NETWORK)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def kube(real_node: RealKube) -> Kube:
    return Kube(real_node.kubeconfig)


@pytest.fixture(scope="session")
def load_balancers(kube: Kube) -> Iterator[LoadBalancerController]:
    controller = LoadBalancerController(kube).start()
    yield controller
    controller.stop()


@pytest.fixture(scope="session")
def runtime_image(real_node: RealKube, tmp_path_factory: pytest.TempPathFactory) -> RuntimeImage:
    """Python 3 + psycopg + Redis from Debian packages, in the node's registry (built once per registry)."""
    reason = missing()
    if reason:
        unavailable(reason)
    assert real_node.registry is not None
    image = ensure_runtime_image(real_node.registry, tmp_path_factory.mktemp("runtime-image"))
    how = f"built and pushed in {image.seconds} s" if image.built else "found in the registry"
    print(f"\nruntime image {image.reference}: {how}", file=sys.stderr)
    return image


@pytest.fixture(scope="session")
def buildah_storage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One buildah storage for the session: the base image's layers are pulled once."""
    return tmp_path_factory.mktemp("buildah")


def build_env(registry: str, runtime: RuntimeImage, storage: Path, repository: str) -> dict[str, str]:
    """DeployTag builds the example's real Dockerfile on sandbox/Dockerfile.base FROM the runtime image."""
    return {
        "DEPLOYTAG_IMAGES__APP__REPOSITORY": f"{registry}/{repository}",
        "DEPLOYTAG_IMAGES__APP__BASE_DOCKERFILE": "sandbox/Dockerfile.base",
        "DEPLOYTAG_BUILD__ARGS": json.dumps({"PYTHON_IMAGE": runtime.reference}),
        "DEPLOYTAG_BUILD__BUILDAH_ROOT": str(storage / "root"),
        "DEPLOYTAG_BUILD__BUILDAH_RUNROOT": str(storage / "run"),
        "DEPLOYTAG_BUILD__STORAGE_DRIVER": "vfs",
        "DEPLOYTAG_BUILD__ISOLATION": "chroot",
    }


@pytest.fixture
def app(
    tmp_path: Path,
    real_node: RealKube,
    kube: Kube,
    load_balancers: LoadBalancerController,
    runtime_image: RuntimeImage,
    buildah_storage: Path,
    helm_bin: Path,
    cloudflare: CloudflareDouble,
    postgres_server: postgres.PostgresServer,
) -> Iterator[App]:
    name = random_app_name()
    repo = copy_example(tmp_path, name)
    assert real_node.registry is not None
    load_balancers.watch(f"{name}-")
    app = App(
        repo=repo,
        kube=kube,
        helm=helm_bin,
        name=name,
        database_admin_url=postgres_server.admin_url,
        # The app's DATABASE_URL names the host as the pods see it (database.app_host).
        extra_env={**dns_env(cloudflare), "DEPLOYTAG_DATABASE__APP_HOST": HOST_FROM_POD},
        build_env=build_env(real_node.registry, runtime_image, buildah_storage, E2E_REPOSITORY),
    )
    yield app
    load_balancers.forget(f"{name}-")
    # What a failing test left behind; its own names only.
    for ns in kube.namespaces(f"{name}-"):
        kube.store.delete("namespaces", None, ns)
    for lease in kube.store.list("leases", "default"):
        if lease["metadata"]["name"].startswith(f"deploytag-{name}-"):
            kube.store.delete("leases", "default", lease["metadata"]["name"])
