"""The image builder and registry client, chosen from ``build`` configuration."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from deploytag.adapters.images.registry_auth import credential_source
from deploytag.adapters.images.registry_v2 import RegistryV2
from deploytag.adapters.plugins import load_provider
from deploytag.core.config import BuildConfig
from deploytag.core.errors import ToolMissingError
from deploytag.ports.cluster import Cluster
from deploytag.ports.factories import ImageBuilderFactory
from deploytag.ports.images import CredentialSource, ImageBuilder, Registry
from deploytag.ports.runner import CommandRunner

AUTO_ORDER = ("buildah", "docker")
INSTALL_HINT = (
    "install buildah (apt-get install buildah; daemonless, works in CI containers) "
    "or Docker with the buildx plugin, or set build.builder: kaniko to build in the cluster, "
    "or pass --skip-build to deploy an existing image"
)


def make_registry(config: BuildConfig, environ: Mapping[str, str]) -> Registry:
    return RegistryV2(
        credentials=credential_source(config.registry_auth, environ),
        insecure_hosts=config.insecure_registries,
    )


def make_builder(
    config: BuildConfig,
    runner: CommandRunner,
    environ: Mapping[str, str],
    *,
    cluster: Callable[[], Cluster] | None = None,
    namespace: str = "default",
) -> ImageBuilder:
    """``cluster`` and ``namespace`` (the lock namespace) are for builders that run in the cluster."""
    credentials = credential_source(config.registry_auth, environ)
    names = AUTO_ORDER if config.builder == "auto" else (config.builder,)
    for name in names:
        factory: ImageBuilderFactory = load_provider("deploytag.builders", name)
        if factory.available(runner):
            return factory.from_config(
                config=config, runner=runner, credentials=credentials, cluster=cluster, namespace=namespace
            )
    wanted = "buildah or docker buildx" if config.builder == "auto" else config.builder
    raise ToolMissingError(f"no image builder found ({wanted})", hint=INSTALL_HINT)


__all__ = ["CredentialSource", "make_builder", "make_registry"]
