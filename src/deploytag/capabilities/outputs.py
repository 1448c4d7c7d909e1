"""The typed hand-offs between capabilities: who provides each, and who needs it.

Every provider puts its output even when it skips (empty values), so a capability
that needs one always finds it; the runner checks that a provider did.

| output             | provided by | needed by               |
|--------------------|-------------|-------------------------|
| BuiltImages        | base        | image (report)          |
| ImageValues        | image       | migrate, release        |
| DatabaseConnection | database    | secrets, migrate        |
| SecretsResult      | secrets     | release                 |
| ReleaseResult      | release     | verify (report, record) |
| DnsTargets         | expose      | dns                     |
| DnsUrls            | dns         | verify (report)         |
| EnvironmentUrls    | verify      | (report, record)        |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from deploytag.ports.helm import ReleaseInfo

if TYPE_CHECKING:  # the image build modules load only when images are built
    from deploytag.capabilities.imagebuild import ImageResult


class BuiltImages(msgspec.Struct, frozen=True):
    """Image name -> what its build decided; the app image step fills in the digest."""

    results: Mapping[str, ImageResult] = msgspec.field(default_factory=dict)


class ImageValues(msgspec.Struct, frozen=True):
    """Chart values key -> the image values the chart gets this run (digest pinned)."""

    values: Mapping[str, Mapping[str, Any]] = msgspec.field(default_factory=dict)


@dataclass(frozen=True)
class DatabaseConnection:
    """Connection variables for the environment's Secret (never logged); empty without a database."""

    values: Mapping[str, str] = field(default_factory=dict, repr=False)
    created: bool = False  # this run created the database: migrate even if the commit ran before


class SecretsResult(msgspec.Struct, frozen=True):
    versions: Mapping[str, str] = msgspec.field(default_factory=dict)
    keys: tuple[str, ...] = ()
    injected: Mapping[str, Any] = msgspec.field(
        default_factory=dict
    )  # values the chart gets (the Secret's name)


class ReleaseResult(msgspec.Struct, frozen=True):
    info: ReleaseInfo | None
    unchanged: bool  # the release matches the fingerprint: verify is skipped
    fingerprint: str


class DnsTargets(msgspec.Struct, frozen=True):
    """Load balancer hostnames or IPs the environment's names point at."""

    addresses: tuple[str, ...] = ()


class DnsUrls(msgspec.Struct, frozen=True):
    urls: tuple[str, ...] = ()


class EnvironmentUrls(msgspec.Struct, frozen=True):
    """What people open: the DNS names first, then LoadBalancer Services."""

    urls: tuple[str, ...] = ()


class NamespacePresence(msgspec.Struct, frozen=True):
    """Destroy: whether the namespace existed when the release was removed (read once, under the lease)."""

    existed: bool
