"""Settings of the image builders, composed into ``build.*`` by the config schema.

``BuilderSettings`` extends the common build options (``core.sections.BuildOptions``) with
buildah's options (flat under ``build.``, as they always were) and kaniko's section
(``build.kaniko.*``); ``core.config.schema.BuildConfig`` is it. Only msgspec and core are
imported: the schema imports this module (the one exception to the layers; see the
import-linter contracts in pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from msgspec import Meta, field

from deploytag.core.sections import BuildOptions
from deploytag.core.settingsmodel import SettingsModel


class KanikoConfig(SettingsModel):
    """The kaniko builder: a Kubernetes Job that builds from git and pushes in one step."""

    image: Annotated[str, Meta(description="kaniko executor image")] = (
        "gcr.io/kaniko-project/executor:v1.23.2"
    )
    namespace: Annotated[
        str | None, Meta(description="namespace the build Jobs run in; default cluster.lock_namespace")
    ] = None
    context: Annotated[
        Literal["git", "s3"],
        Meta(
            description=(
                "build context kaniko reads: git (the remote URL at the checked-out commit) or s3 (a tar.gz "
                "of the context after .dockerignore, uploaded to s3_bucket)"
            )
        ),
    ] = "git"
    s3_bucket: Annotated[str | None, Meta(description="bucket for s3 contexts (context: s3)")] = None
    s3_prefix: Annotated[str, Meta(description="key prefix of s3 contexts; keys are content hashes")] = (
        "deploytag/contexts"
    )
    git_url: Annotated[
        str | None, Meta(description="repository URL kaniko clones; default the 'origin' remote")
    ] = None
    git_ref: Annotated[
        str | None,
        Meta(
            description="ref kaniko fetches the commit from, e.g. refs/heads/main; default the checked-out branch"
        ),
    ] = None


class BuilderSettings(BuildOptions):
    """The common build options, then buildah's storage and isolation, and the kaniko section."""

    buildah_root: Annotated[
        Path | None, Meta(description="buildah storage root (--root); default buildah's")
    ] = None
    buildah_runroot: Annotated[Path | None, Meta(description="buildah run root (--runroot)")] = None
    storage_driver: Annotated[str | None, Meta(description="buildah storage driver, e.g. vfs or overlay")] = (
        None
    )
    isolation: Annotated[str, Meta(description="buildah RUN isolation: chroot works inside containers")] = (
        "chroot"
    )
    kaniko: Annotated[KanikoConfig, Meta(description="the kaniko builder")] = field(
        default_factory=KanikoConfig
    )
