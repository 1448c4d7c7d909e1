"""Build the runtime (providers, clock, runner) from configuration and options."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from deploytag.adapters.git import GitCli
from deploytag.adapters.helm import HelmBinary
from deploytag.adapters.process import SubprocessRunner
from deploytag.adapters.registry import load_provider
from deploytag.core.config import LoadedConfig, load_config
from deploytag.ports.clock import Clock, SystemClock
from deploytag.ports.cluster import Cluster
from deploytag.ports.dns import DnsProvider
from deploytag.ports.helm import KubeTarget
from deploytag.ports.providers import Providers
from deploytag.ports.runner import CommandRunner
from deploytag.ports.secrets import SecretStore


@dataclass(frozen=True)
class Invocation:
    """What the caller (the CLI) knows before any configuration is read."""

    repo: Path = field(default_factory=Path.cwd)
    config_file: Path | None = None
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    flags: dict[str, object] = field(default_factory=dict)  # dotted config keys from flags
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
) -> Providers:
    runner = runner or SubprocessRunner(extra_path=tool_path())
    cfg = loaded.config
    helm_binary = inv.helm_binary or cfg.tools.helm

    def make_cluster() -> Cluster:
        if cluster is not None:
            return cluster
        cls = load_provider("deploytag.clusters", cfg.cluster.provider)
        return cast(Cluster, cls.from_config(config=cfg.cluster))

    def make_store() -> SecretStore:
        if secret_store is not None:
            return secret_store
        cls = load_provider("deploytag.secret_stores", cfg.secrets.provider)
        return cast(SecretStore, cls.from_config(config=cfg.secrets, root=loaded.root))

    def make_dns() -> DnsProvider | None:
        if dns is not None or cfg.dns.provider is None:
            return dns
        cls = load_provider("deploytag.dns", cfg.dns.provider)
        keys: tuple[str, ...] = getattr(cls, "credential_keys", ())
        return cast(DnsProvider, cls.from_config(config=cfg.dns, credentials=dns_credentials(keys)))

    def dns_credentials(keys: tuple[str, ...]) -> dict[str, str]:
        """Provider credentials: the secret store (ids from --cloud-aws-secret-id) first, then the environment."""
        found = {k: inv.environ[k] for k in keys if inv.environ.get(k)}
        if keys and cfg.secrets.ids:
            values = providers.secret_store.fetch(ids=cfg.secrets.ids).values
            found.update({k: values[k] for k in keys if values.get(k)})
        return found

    providers = Providers(
        runner=runner,
        clock=clock or SystemClock(),
        git=GitCli(runner=runner),
        helm=HelmBinary(runner=runner, binary=helm_binary),
        kube_target=KubeTarget(kubeconfig=cfg.cluster.kubeconfig, context=cfg.cluster.context),
        cluster_factory=make_cluster,
        secret_store_factory=make_store,
        image_builder_factory=lambda: imagewiring().make_builder(cfg.build, runner, inv.environ),
        registry_factory=lambda: imagewiring().make_registry(cfg.build, inv.environ),
        dns_factory=make_dns,
    )
    return providers


def imagewiring() -> Any:
    # urllib.request and the builders are imported only when an image is built.
    from deploytag.service import imagewiring as module

    return module
