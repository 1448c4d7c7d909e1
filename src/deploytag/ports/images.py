"""Image ports: a builder (buildah, docker buildx, kaniko) and a registry (HTTP API v2).

A builder builds to local storage first and pushes only after a successful
build; the registry makes a tag visible only once the manifest is uploaded, so a
failed build or push never leaves a half-written image under the final tag.
kaniko has no local storage: it builds and pushes in one step (in a Job), which
is why callers that push use ``build_and_push``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import msgspec


@dataclass(frozen=True)
class RegistryCredentials:
    """Basic credentials for one registry host. Never printed, never on argv."""

    username: str
    password: str = field(repr=False)

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.password,)


class CredentialSource(Protocol):
    def credentials(self, *, host: str) -> RegistryCredentials | None: ...


class BuildRequest(msgspec.Struct, frozen=True):
    context: Path
    dockerfile: Path
    tags: Sequence[str]  # full references: host/name:tag
    build_args: Mapping[str, str] = msgspec.field(default_factory=dict)
    platform: str | None = None
    pulls: Sequence[str] = ()  # images the build reads (FROM), for registry auth and TLS settings
    labels: Mapping[str, str] = msgspec.field(default_factory=dict)


class ImageBuilder(Protocol):
    name: str

    def build(self, *, request: BuildRequest) -> str:
        """Build into local storage; returns the local image id. Nothing is pushed."""
        ...

    def push(self, *, image: str, reference: str) -> str:
        """Push a built image under ``reference``; returns the manifest digest (sha256:...)."""
        ...

    def build_and_push(self, *, request: BuildRequest) -> str:
        """Build, then push under every tag once the build succeeded; returns the digest."""
        ...


class ImageInfo(msgspec.Struct, frozen=True):
    """What the orphan sweep needs of one tag: its digest, config labels and build time."""

    digest: str  # the manifest's (what DELETE takes)
    labels: Mapping[str, str]
    created: str = ""  # the image config's "created" (RFC 3339); "" when the builder left it out


class Registry(Protocol):
    def manifest_digest(self, *, repository: str, tag: str) -> str | None:
        """HEAD the manifest: its digest, or None when the tag does not exist."""
        ...

    def labels(self, *, repository: str, tag: str) -> dict[str, str] | None:
        """The image config's labels; None when the tag does not exist."""
        ...

    def tags(self, *, repository: str) -> list[str]: ...

    def image_info(self, *, repository: str, tag: str) -> ImageInfo | None:
        """Digest, labels and build time of the tag; None when it does not exist."""
        ...

    def delete_manifest(self, *, repository: str, digest: str) -> bool:
        """Delete the manifest (and so every tag pointing at it); False when it was not there.

        The registry must allow deletes (distribution: ``storage.delete.enabled``).
        """
        ...
