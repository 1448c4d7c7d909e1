"""The runtime handed to the service: providers, clock and process runner.

Built once by the service's wiring (``service.wiring``) from configuration and
entry points, and passed down; nothing below reaches for globals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:  # annotations only: `plan` need not create the records of ports it never uses
    from deploytag.ports.clock import Clock
    from deploytag.ports.cluster import Cluster
    from deploytag.ports.database import Database
    from deploytag.ports.dns import DnsProvider
    from deploytag.ports.git import GitReader
    from deploytag.ports.helm import Helm, KubeTarget
    from deploytag.ports.images import ImageBuilder, Registry
    from deploytag.ports.runner import CommandRunner
    from deploytag.ports.secrets import SecretStore


class Providers(msgspec.Struct):
    runner: CommandRunner
    clock: Clock
    git: GitReader
    helm: Helm
    kube_target: KubeTarget
    # Built on first use: plan needs neither, and importing an SDK costs start-up time.
    cluster_factory: Callable[[], Cluster]
    secret_store_factory: Callable[[], SecretStore]
    # Raises ConfigError when no admin connection is configured (plan reports that as unknown).
    database_factory: Callable[[], Database] | None = None
    _cluster: Cluster | None = None
    _secrets: SecretStore | None = None
    # Images: the builder is looked for only when a build is needed.
    image_builder_factory: Callable[[], ImageBuilder] | None = None
    registry_factory: Callable[[], Registry] | None = None
    _builder: ImageBuilder | None = None
    _registry: Registry | None = None
    # Built on first use from dns.*; None when no provider is configured.
    dns_factory: Callable[[], DnsProvider | None] = lambda: None
    _dns: DnsProvider | None = None
    _database: Database | None = None

    @property
    def cluster(self) -> Cluster:
        if self._cluster is None:
            self._cluster = self.cluster_factory()
        return self._cluster

    @property
    def secret_store(self) -> SecretStore:
        if self._secrets is None:
            self._secrets = self.secret_store_factory()
        return self._secrets

    @property
    def image_builder(self) -> ImageBuilder:
        if self._builder is None:
            if self.image_builder_factory is None:
                raise RuntimeError("no image builder wired")
            self._builder = self.image_builder_factory()
        return self._builder

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            if self.registry_factory is None:
                raise RuntimeError("no registry client wired")
            self._registry = self.registry_factory()
        return self._registry

    @property
    def dns(self) -> DnsProvider | None:
        if self._dns is None:
            self._dns = self.dns_factory()
        return self._dns

    @property
    def database(self) -> Database:
        if self._database is None:
            if self.database_factory is None:
                from deploytag.core.errors import ConfigError

                raise ConfigError(
                    "no database server is configured", hint="set database.engine in deploytag.yaml"
                )
            self._database = self.database_factory()
        return self._database
