"""Build the runtime (providers, clock, runner) from configuration and options."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import structs

from deploytag.adapters.common.process import SubprocessRunner
from deploytag.adapters.git.cli import GitCli
from deploytag.adapters.helm.binary import HelmBinary
from deploytag.adapters.helm.versioncache import VersionCache, cache_directory
from deploytag.adapters.plugins import load_provider
from deploytag.core.config import LoadedConfig, load_config
from deploytag.core.errors import ConfigError
from deploytag.ports.clock import Clock, SystemClock
from deploytag.ports.helm import KubeTarget
from deploytag.ports.providers import Providers

if TYPE_CHECKING:  # annotations only: a command imports the ports it uses, when it uses them
    from deploytag.ports.cluster import Cluster
    from deploytag.ports.database import Database
    from deploytag.ports.dns import DnsProvider
    from deploytag.ports.factories import (
        ClusterFactory,
        DatabaseFactory,
        DnsProviderFactory,
        SecretStoreFactory,
    )
    from deploytag.ports.runner import CommandRunner
    from deploytag.ports.secrets import SecretBundle, SecretStore


class Invocation(msgspec.Struct, frozen=True):
    """What the caller (the CLI) knows before any configuration is read."""

    repo: Path = msgspec.field(default_factory=Path.cwd)
    config_file: Path | None = None
    environ: dict[str, str] = msgspec.field(default_factory=lambda: dict(os.environ))
    flags: dict[str, object] = msgspec.field(default_factory=dict)  # dotted config keys from flags
    helm_binary: str | None = None


def load(inv: Invocation) -> LoadedConfig:
    return load_config(repo=inv.repo, config_file=inv.config_file, environ=inv.environ, flags=inv.flags)


def tool_path() -> list[str]:
    """tools/setup.sh puts helm/kubectl under .tools/bin of the DeployTag checkout."""
    here = Path(__file__).resolve()
    candidates = [p / ".tools" / "bin" for p in here.parents[:4]]
    return [str(p) for p in candidates if p.is_dir()]


def build_providers(
    inv: Invocation,
    loaded: LoadedConfig,
    *,
    runner: CommandRunner | None = None,
    clock: Clock | None = None,
    cluster: Cluster | None = None,
    secret_store: SecretStore | None = None,
    dns: DnsProvider | None = None,
    database: Database | None = None,
) -> Providers:
    runner = runner or SubprocessRunner(extra_path=tool_path(), environ=inv.environ)
    cfg = loaded.config
    helm_binary = inv.helm_binary or cfg.tools.helm

    def make_cluster() -> Cluster:
        if cluster is not None:
            return cluster
        factory: ClusterFactory = load_provider("deploytag.clusters", cfg.cluster.provider)
        config = cfg.cluster
        if config.kubeconfig is None and inv.environ.get("KUBECONFIG"):
            # The caller's KUBECONFIG, which helm (started with the same environment) reads too.
            config = structs.replace(config, kubeconfig=inv.environ["KUBECONFIG"])
        return factory.from_config(config=config)

    def make_store() -> SecretStore:
        if secret_store is not None:
            return ReadOnce(secret_store)
        factory: SecretStoreFactory = load_provider("deploytag.secret_stores", cfg.secrets.provider)
        return ReadOnce(factory.from_config(config=cfg.secrets, root=loaded.root))

    def make_dns() -> DnsProvider | None:
        if dns is not None or cfg.dns.provider is None:
            return dns
        factory: DnsProviderFactory = load_provider("deploytag.dns", cfg.dns.provider)
        keys: tuple[str, ...] = getattr(factory, "credential_keys", ())
        return factory.from_config(config=cfg.dns, credentials=dns_credentials(keys))

    def dns_credentials(keys: tuple[str, ...]) -> dict[str, str]:
        """Provider credentials: the secret store (ids from --cloud-aws-secret-id) first, then the environment."""
        found = {k: inv.environ[k] for k in keys if inv.environ.get(k)}
        if keys and cfg.secrets.ids:
            values = providers.secret_store.fetch(ids=cfg.secrets.ids).values
            found.update({k: values[k] for k in keys if values.get(k)})
        return found

    def make_database() -> Database:
        if database is not None:
            return database
        engine = cfg.database.engine
        if engine is None:
            raise ConfigError(
                "no database engine is configured", hint="set database.engine in deploytag.yaml"
            )
        url, source = admin_url(inv, loaded, lambda: providers.secret_store)
        from deploytag.adapters.databases.dburl import parse_admin_url

        connection = parse_admin_url(url, source=source)
        if connection.engine != engine:
            raise ConfigError(
                f"the admin URL from {source} is for {connection.engine}, but database.engine is {engine}",
                hint="point the admin URL at the configured engine's server",
            )
        factory: DatabaseFactory = load_provider("deploytag.databases", engine)
        return factory.from_connection(connection=connection)

    providers = Providers(
        runner=runner,
        clock=clock or SystemClock(),
        git=GitCli(runner=runner),
        helm=HelmBinary(
            runner=runner,
            binary=helm_binary,
            secret_labels=lambda namespace, selector: [
                s.labels for s in providers.cluster.list_secrets(namespace=namespace, label_selector=selector)
            ],
            driver=inv.environ.get("HELM_DRIVER", ""),
            version_cache=VersionCache(directory=cache_directory(inv.environ)),
        ),
        kube_target=KubeTarget(kubeconfig=cfg.cluster.kubeconfig, context=cfg.cluster.context),
        cluster_factory=make_cluster,
        secret_store_factory=make_store,
        database_factory=make_database,
        image_builder_factory=lambda: imagewiring().make_builder(
            cfg.build, runner, inv.environ, cluster=make_cluster, namespace=cfg.cluster.lock_namespace
        ),
        registry_factory=lambda: imagewiring().make_registry(cfg.build, inv.environ),
        dns_factory=make_dns,
    )
    return providers


class ReadOnce:
    """The store, read once per set of ids in a run.

    Preflight (a DNS provider's token) and the secrets step ask for the same ids;
    against a cloud store each read is an API call per id.
    """

    def __init__(self, store: SecretStore) -> None:
        self._store = store
        self.name = store.name
        self._bundles: dict[tuple[str, ...], SecretBundle] = {}

    def fetch(self, *, ids: Sequence[str]) -> SecretBundle:
        key = tuple(ids)
        if key not in self._bundles:
            self._bundles[key] = self._store.fetch(ids=ids)
        return self._bundles[key]

    def describe_keys(self, *, ids: Sequence[str]) -> list[str]:
        return self._store.describe_keys(ids=ids)


def imagewiring() -> Any:
    # urllib.request and the builders are imported only when an image is built.
    from deploytag.service import imagewiring as module

    return module


def admin_url(inv: Invocation, loaded: LoadedConfig, store: Callable[[], SecretStore]) -> tuple[str, str]:
    """The admin connection URL and where it came from: a secret store id, else an env var.

    Never a flag: a flag's value is visible to every user of the machine (ps).
    """
    cfg = loaded.config.database
    if cfg.admin_secret_id:
        values = store().fetch(ids=[cfg.admin_secret_id]).values
        url = values.get(cfg.admin_secret_key, "")
        source = f"secret {cfg.admin_secret_id} key {cfg.admin_secret_key}"
        if url:
            return url, source
        raise ConfigError(
            f"{source} is empty or missing", hint="store the admin URL there, or use database.admin_url_env"
        )
    url = inv.environ.get(cfg.admin_url_env, "").strip()
    if not url:
        raise ConfigError(
            f"no admin connection for the database server: {cfg.admin_url_env} is not set",
            hint=f"export {cfg.admin_url_env}=postgresql://USER:PASSWORD@HOST:5432/postgres "
            "(or set database.admin_secret_id)",
        )
    return url, f"${cfg.admin_url_env}"
