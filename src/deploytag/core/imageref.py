"""Image references and the rules that keep secrets out of images."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath

import msgspec

from deploytag.core.errors import ConfigError

DOCKER_HUB = "registry-1.docker.io"
_SECRET_ARG = re.compile(r"(?i)(pass(word|wd)?|secret|token|credential|api_?key|private_?key|auth)")
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
# Files that hold credentials by convention; a context that ships one bakes it into a layer.
SECRET_FILE_PATTERNS = (".env", ".env.*", "*.pem", "*.key", "id_rsa", "id_ed25519", ".npmrc", ".pypirc")


class Repository(msgspec.Struct, frozen=True):
    host: str  # registry host[:port] as used in URLs and auth files
    name: str  # path inside the registry, e.g. team/guestbook

    def __str__(self) -> str:
        return f"{self.host}/{self.name}"


def split_repository(text: str) -> Repository:
    """``host[:port]/name`` -> Repository; Docker Hub when the first part is not a host."""
    first, sep, rest = text.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        host, name = first, rest
    else:
        host, name = DOCKER_HUB, text if sep else f"library/{text}"
    if host == "docker.io":
        host = DOCKER_HUB
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"image repository {text!r} is not a valid repository name",
            hint="use lowercase letters, digits, '.', '_', '-' and '/', e.g. registry.example.com/team/app",
        )
    return Repository(host=host, name=name)


def reference_host(reference: str) -> str:
    """The registry host of a full reference such as ``host:5000/app:tag`` or ``app@sha256:...``."""
    first, sep, _ = reference.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return DOCKER_HUB if first == "docker.io" else first
    return DOCKER_HUB


def check_build_args(args: Mapping[str, str], secret_values: Iterable[str] = ()) -> None:
    """Build args end up in the image's history: refuse anything that looks secret."""
    secrets = {s for s in secret_values if s and len(s) >= 4}
    for key, value in args.items():
        if _SECRET_ARG.search(key) or value in secrets:
            raise ConfigError(
                f"build argument {key!r} looks like a secret; build args are visible in the image history",
                hint="pass secrets at run time through the chart's Secret, not at build time",
            )


def secret_files(files: Iterable[str], *, extra: Iterable[str] = ()) -> list[str]:
    """Context files (after .dockerignore) that look like credentials."""
    named = {e.strip("/") for e in extra}
    out = []
    for rel in files:
        path = PurePosixPath(rel)
        if rel in named or any(path.match(p) for p in SECRET_FILE_PATTERNS):
            out.append(rel)
    return out
