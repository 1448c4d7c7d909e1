"""Where registry credentials come from: env, docker/podman auth files, ECR.

They are handed to builders through a 0600 auth file in a private directory
that is removed afterwards, never through argv (``buildah --creds`` shows in ps).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from deploytag.core.errors import ConfigError
from deploytag.ports.images import CredentialSource, RegistryCredentials

ENV_USERNAME = "DEPLOYTAG_REGISTRY_USERNAME"
ENV_PASSWORD = "DEPLOYTAG_REGISTRY_PASSWORD"  # noqa: S105  (a variable name, not a value)
ECR_HOST = re.compile(r"^\d{12}\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


class NoCredentials:
    def credentials(self, *, host: str) -> RegistryCredentials | None:
        return None


class EnvCredentials:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self._user = environ.get(ENV_USERNAME, "")
        self._password = environ.get(ENV_PASSWORD, "")

    def credentials(self, *, host: str) -> RegistryCredentials | None:
        if self._user and self._password:
            return RegistryCredentials(self._user, self._password)
        return None


class AuthFileCredentials:
    """``auths`` entries of REGISTRY_AUTH_FILE, podman's auth.json or docker's config.json."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._paths = auth_file_paths(environ)

    def credentials(self, *, host: str) -> RegistryCredentials | None:
        for path in self._paths:
            try:
                auths = json.loads(path.read_text(encoding="utf-8")).get("auths") or {}
            except (OSError, ValueError, AttributeError):
                continue
            for key in (host, f"https://{host}", f"http://{host}", f"https://{host}/v1/"):
                entry = auths.get(key)
                if isinstance(entry, dict) and entry.get("auth"):
                    try:
                        user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
                    except (binascii.Error, UnicodeDecodeError):
                        continue
                    return RegistryCredentials(user, password)
        return None


def auth_file_paths(environ: Mapping[str, str]) -> list[Path]:
    paths = []
    if environ.get("REGISTRY_AUTH_FILE"):
        paths.append(Path(environ["REGISTRY_AUTH_FILE"]))
    if environ.get("XDG_RUNTIME_DIR"):
        paths.append(Path(environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    docker = environ.get("DOCKER_CONFIG") or str(Path(environ.get("HOME", "~")).expanduser() / ".docker")
    paths.append(Path(docker) / "config.json")
    return paths


class ChainCredentials:
    def __init__(self, sources: Iterable[CredentialSource]) -> None:
        self._sources = list(sources)

    def credentials(self, *, host: str) -> RegistryCredentials | None:
        for source in self._sources:
            found = source.credentials(host=host)
            if found is not None:
                return found
        return None


class EcrOnly:
    """ECR's token (through boto3, in adapters.images.ecr) for ECR hosts; nothing for others."""

    def credentials(self, *, host: str) -> RegistryCredentials | None:
        match = ECR_HOST.match(host)
        if not match:
            return None
        from deploytag.adapters.images.ecr import ecr_credentials

        return ecr_credentials(region=match.group(2))


def credential_source(mode: str, environ: Mapping[str, str]) -> CredentialSource:
    sources: dict[str, list[CredentialSource]] = {
        "none": [],
        "env": [EnvCredentials(environ)],
        "auth-file": [AuthFileCredentials(environ)],
        "ecr": [EcrOnly()],
        "auto": [EnvCredentials(environ), EcrOnly(), AuthFileCredentials(environ)],
    }
    if mode not in sources:
        raise ConfigError(f"unknown build.registry_auth {mode!r}", hint=f"use one of: {', '.join(sources)}")
    return ChainCredentials(sources[mode])


def auths_for(source: CredentialSource, hosts: Iterable[str]) -> dict[str, dict[str, str]]:
    """The ``auths`` of a docker config.json / containers auth.json for ``hosts``."""
    auths = {}
    for host in sorted(set(hosts)):
        creds = source.credentials(host=host)
        if creds is not None:
            raw = f"{creds.username}:{creds.password}".encode()
            auths[host] = {"auth": base64.b64encode(raw).decode()}
    return auths


@contextlib.contextmanager
def auth_file(
    source: CredentialSource, hosts: Iterable[str], *, name: str = "auth.json"
) -> Iterator[Path | None]:
    """A 0600 auth file (containers-auth.json format) for ``hosts``, removed on exit."""
    auths = auths_for(source, hosts)
    if not auths:
        yield None
        return
    directory = Path(tempfile.mkdtemp(prefix="deploytag-auth-"))  # 0700
    path = directory / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"auths": auths}, f)
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)
