"""The runtime handed to the service: providers, clock and process runner.

Built once by the service's wiring (``service.wiring``) from configuration and
entry points, and passed down; nothing below reaches for globals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from deploytag.ports.clock import Clock
from deploytag.ports.cluster import Cluster
from deploytag.ports.database import Database
from deploytag.ports.git import GitReader
from deploytag.ports.helm import Helm, KubeTarget
from deploytag.ports.runner import CommandRunner
from deploytag.ports.secrets import SecretStore


@dataclass
class Providers:
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
    def database(self) -> Database:
        if self._database is None:
            if self.database_factory is None:
                from deploytag.core.errors import ConfigError

                raise ConfigError(
                    "no database server is configured", hint="set database.engine in deploytag.yaml"
                )
            self._database = self.database_factory()
        return self._database
