"""The Registry port against a real docker-registry: HEAD, tag list, Basic auth."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploytag.adapters.images.registry_auth import AuthFileCredentials, EnvCredentials, NoCredentials
from deploytag.adapters.images.registry_v2 import RegistryAuthError, RegistryV2
from deploytag.core.errors import RetryableImageError
from servers.fixtures import REGISTRY_USER, Images
from servers.registry import LocalRegistry, free_port

LOOPBACK = ["127.0.0.1"]


def test_head_finds_pushed_tags_only(images: Images) -> None:
    client = RegistryV2(credentials=NoCredentials(), insecure_hosts=LOOPBACK)
    repo = images.base.rsplit(":", 1)[0]
    digest = client.manifest_digest(repository=repo, tag="1")
    assert digest is not None and digest.startswith("sha256:")
    assert client.manifest_digest(repository=repo, tag="not-there") is None
    assert client.manifest_digest(repository=f"{images.registry.host}/never-pushed", tag="1") is None
    assert client.tags(repository=repo) == images.registry.tags("tiny-base")
    assert client.tags(repository=f"{images.registry.host}/never-pushed") == []


def test_basic_auth_from_env_and_auth_file(auth_registry: LocalRegistry, tmp_path: Path) -> None:
    user, password = REGISTRY_USER
    repo = f"{auth_registry.host}/nothing-yet"
    good = EnvCredentials({"DEPLOYTAG_REGISTRY_USERNAME": user, "DEPLOYTAG_REGISTRY_PASSWORD": password})
    assert (
        RegistryV2(credentials=good, insecure_hosts=LOOPBACK).manifest_digest(repository=repo, tag="x")
        is None
    )

    import base64
    import json

    auth = tmp_path / "auth.json"
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    auth.write_text(json.dumps({"auths": {auth_registry.host: {"auth": token}}}))
    from_file = AuthFileCredentials({"REGISTRY_AUTH_FILE": str(auth), "HOME": str(tmp_path)})
    assert RegistryV2(credentials=from_file, insecure_hosts=LOOPBACK).tags(repository=repo) == []

    bad = EnvCredentials({"DEPLOYTAG_REGISTRY_USERNAME": user, "DEPLOYTAG_REGISTRY_PASSWORD": "wrong-pass"})
    with pytest.raises(RegistryAuthError, match=r"refused access .* \(HTTP 401\)") as info:
        RegistryV2(credentials=bad, insecure_hosts=LOOPBACK).manifest_digest(repository=repo, tag="x")
    assert "wrong-pass" not in str(info.value)
    with pytest.raises(RegistryAuthError, match="no credentials were found"):
        RegistryV2(credentials=NoCredentials(), insecure_hosts=LOOPBACK).manifest_digest(
            repository=repo, tag="x"
        )


def test_unreachable_registry_is_retryable() -> None:
    client = RegistryV2(credentials=NoCredentials(), insecure_hosts=LOOPBACK, timeout_seconds=2)
    with pytest.raises(RetryableImageError, match="unreachable"):
        client.manifest_digest(repository=f"127.0.0.1:{free_port()}/app", tag="1")


def test_bearer_token_flow(token_registry: LocalRegistry) -> None:
    user, password = REGISTRY_USER
    repo = f"{token_registry.host}/team/app"
    good = EnvCredentials({"DEPLOYTAG_REGISTRY_USERNAME": user, "DEPLOYTAG_REGISTRY_PASSWORD": password})
    client = RegistryV2(credentials=good, insecure_hosts=LOOPBACK)
    assert client.manifest_digest(repository=repo, tag="1") is None
    assert client.tags(repository=repo) == []
    assert token_registry.token_server.issued >= 1  # the registry sent us to the token server

    bad = EnvCredentials({"DEPLOYTAG_REGISTRY_USERNAME": user, "DEPLOYTAG_REGISTRY_PASSWORD": "wrong-pass"})
    with pytest.raises(RegistryAuthError, match=r"token service .* refused the login"):
        RegistryV2(credentials=bad, insecure_hosts=LOOPBACK).manifest_digest(repository=repo, tag="1")


def test_image_info_and_delete_manifest(registry: LocalRegistry) -> None:
    """What the orphan sweep uses: digest, labels and build time of a tag; deleting by digest."""
    import secrets

    from tinyimage import push_tiny_image

    client = RegistryV2(credentials=NoCredentials(), insecure_hosts=LOOPBACK)
    name = f"sweep-{secrets.token_hex(3)}"
    repo = f"{registry.host}/{name}"
    old = push_tiny_image(
        registry.host,
        name,
        ["a-1", "a"],
        labels={"dev.deploytag.inputs": "x"},
        created="2026-01-01T00:00:00Z",
    )
    kept = push_tiny_image(registry.host, name, ["b"], labels={"other": "y"})
    info = client.image_info(repository=repo, tag="a-1")
    assert info is not None
    assert (info.digest, dict(info.labels), info.created) == (
        old,
        {"dev.deploytag.inputs": "x"},
        "2026-01-01T00:00:00Z",
    )
    assert client.image_info(repository=repo, tag="nope") is None
    assert client.delete_manifest(repository=repo, digest=old) is True
    assert client.tags(repository=repo) == ["b"]  # both tags of that digest went with it
    assert client.delete_manifest(repository=repo, digest=old) is False
    assert client.manifest_digest(repository=repo, tag="b") == kept
