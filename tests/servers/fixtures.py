"""Session fixtures: a real registry (plain and with htpasswd auth), buildah storage
under a temporary folder, and the busybox base pushed to the registry.

Loaded as a pytest plugin by tests/conftest.py; skipped with a reason when
docker-registry, buildah or busybox-static is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from servers import buildah as buildah_server
from servers.registry import BINARY, LocalRegistry

REGISTRY_USER = ("ci-bot", "registry-pass-7e1f")


@dataclass(frozen=True)
class Images:
    registry: LocalRegistry
    storage: Path
    base: str  # the busybox base, in the registry

    def env(self) -> dict[str, str]:
        return buildah_server.storage(self.storage)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    if BINARY is None:
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    with LocalRegistry(tmp_path_factory.mktemp("registry")) as reg:
        yield reg


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    if BINARY is None:
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    pytest.importorskip("bcrypt", reason="htpasswd entries need bcrypt (pip install bcrypt)")
    with LocalRegistry(tmp_path_factory.mktemp("auth-registry"), users=dict([REGISTRY_USER])) as reg:
        yield reg


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    """Bearer-token auth: the registry sends clients to a token server (servers.tokenauth)."""
    if BINARY is None:
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    pytest.importorskip("cryptography", reason="the token server signs JWTs with cryptography")
    with LocalRegistry(
        tmp_path_factory.mktemp("token-registry"), users=dict([REGISTRY_USER]), token=True
    ) as reg:
        yield reg


@pytest.fixture(scope="session")
def images(registry: LocalRegistry, tmp_path_factory: pytest.TempPathFactory) -> Images:
    reason = buildah_server.missing()
    if reason:
        pytest.skip(reason)
    storage = tmp_path_factory.mktemp("buildah")
    return Images(registry=registry, storage=storage, base=buildah_server.tiny_base(storage, registry.host))
