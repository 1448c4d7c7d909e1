"""How each capability's provider is built: one typed factory Protocol per entry point group.

An entry point names a class; the class object itself is the factory (its
classmethods below), so ``plugins.load_provider`` returns something the service
wiring can call with checked keyword arguments instead of ``Any``. A provider in
another package implements the same classmethods and declares its entry point.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from deploytag.core.config import BuildConfig, ClusterConfig, DnsConfig, FeedbackConfig, SecretsConfig
from deploytag.ports.clock import Clock
from deploytag.ports.cluster import Cluster
from deploytag.ports.database import AdminConnection, Database
from deploytag.ports.dns import DnsProvider
from deploytag.ports.feedback import Feedback
from deploytag.ports.images import CredentialSource, ImageBuilder
from deploytag.ports.runner import CommandRunner
from deploytag.ports.secrets import SecretStore


class ClusterFactory(Protocol):
    """Entry point group ``deploytag.clusters``; chosen by ``cluster.provider``."""

    def from_config(self, *, config: ClusterConfig) -> Cluster: ...


class SecretStoreFactory(Protocol):
    """Entry point group ``deploytag.secret_stores``; chosen by ``secrets.provider``."""

    def from_config(self, *, config: SecretsConfig, root: Path) -> SecretStore: ...


class DnsProviderFactory(Protocol):
    """Entry point group ``deploytag.dns``; chosen by ``dns.provider``.

    ``credential_keys`` names the secrets it reads (from the secret store, else the
    environment); its own settings are ``config.<provider>`` (``adapters/dns/settings.py``).
    """

    @property
    def credential_keys(self) -> tuple[str, ...]: ...

    def from_config(self, *, config: DnsConfig, credentials: Mapping[str, str]) -> DnsProvider: ...


class DatabaseFactory(Protocol):
    """Entry point group ``deploytag.databases``; chosen by ``database.engine``."""

    def from_connection(self, *, connection: AdminConnection) -> Database: ...


class ImageBuilderFactory(Protocol):
    """Entry point group ``deploytag.builders``; chosen by ``build.builder`` (``auto``: the first available).

    ``cluster`` and ``namespace`` (the lock namespace) are for builders that run in
    the cluster (kaniko); the others ignore them.
    """

    def available(self, runner: CommandRunner) -> bool: ...

    def from_config(
        self,
        *,
        config: BuildConfig,
        runner: CommandRunner,
        credentials: CredentialSource,
        cluster: Callable[[], Cluster] | None,
        namespace: str,
    ) -> ImageBuilder: ...


class FeedbackFactory(Protocol):
    """Entry point group ``deploytag.feedback``; chosen by ``feedback.provider``, else by ``detect``.

    ``detect`` says whether the CI variables are this platform's; ``token_keys`` names
    the token's keys, looked up in the secret store (``feedback.token_secret_id``) and
    then the environment; the rest of the configuration is the platform's CI variables.
    """

    @property
    def token_keys(self) -> tuple[str, ...]: ...

    def detect(self, *, environ: Mapping[str, str]) -> bool: ...

    def from_environment(
        self, *, environ: Mapping[str, str], token: str, config: FeedbackConfig, clock: Clock
    ) -> Feedback: ...


# Entry point group -> the factory its classes implement (tests/core/test_plugins.py checks each).
FACTORIES: dict[str, type] = {
    "deploytag.clusters": ClusterFactory,
    "deploytag.secret_stores": SecretStoreFactory,
    "deploytag.dns": DnsProviderFactory,
    "deploytag.databases": DatabaseFactory,
    "deploytag.builders": ImageBuilderFactory,
    "deploytag.feedback": FeedbackFactory,
}
