"""The image builder and registry client, chosen from ``build`` configuration."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from deploytag.adapters.images.registry_auth import credential_source
from deploytag.adapters.images.registry_v2 import RegistryV2
from deploytag.adapters.plugins import load_provider
from deploytag.core.config import BuildConfig
from deploytag.core.errors import ToolMissingError
from deploytag.ports.cluster import Cluster
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
    """``cluster`` and ``namespace`` (the lock namespace) are for kaniko, which builds in a Job."""
    credentials = credential_source(config.registry_auth, environ)
    names = AUTO_ORDER if config.builder == "auto" else (config.builder,)
    for name in names:
        cls = load_provider("deploytag.builders", name)
        if cls.available(runner):
            settings = _settings(name, config)
            if name == "kaniko":
                if cluster is None:
                    raise ToolMissingError("the kaniko builder needs a cluster", hint="configure cluster:")
                settings.update(cluster=cluster, namespace=namespace, kaniko=config.kaniko)
                if config.kaniko.context == "s3":
                    from deploytag.adapters.images.s3_context import S3ContextStore

                    settings["context_store"] = S3ContextStore()
            return cast(ImageBuilder, cls(runner=runner, credentials=credentials, **settings))
    wanted = "buildah or docker buildx" if config.builder == "auto" else config.builder
    raise ToolMissingError(f"no image builder found ({wanted})", hint=INSTALL_HINT)


def _settings(name: str, config: BuildConfig) -> dict[str, Any]:
    common: dict[str, Any] = {
        "insecure_hosts": config.insecure_registries,
        "timeout_seconds": config.timeout_seconds,
    }
    if name == "buildah":
        common.update(
            root=config.buildah_root,
            runroot=config.buildah_runroot,
            storage_driver=config.storage_driver,
            isolation=config.isolation,
        )
    return common


__all__ = ["CredentialSource", "make_builder", "make_registry"]
