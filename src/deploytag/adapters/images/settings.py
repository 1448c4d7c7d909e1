"""Settings of the image builders, composed into ``build.*`` by the config schema.

``BuilderSettings`` holds buildah's options (flat under ``build.``, as they always were)
and kaniko's section (``build.kaniko.*``); ``core.config.schema.BuildConfig`` inherits
it. Only pydantic and ``core.settingsmodel`` are imported: the schema imports this module
(the one exception to the layers; see the import-linter contracts in pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from deploytag.core.settingsmodel import SettingsModel


class KanikoConfig(SettingsModel):
    """The kaniko builder: a Kubernetes Job that builds from git and pushes in one step."""

    image: str = Field(default="gcr.io/kaniko-project/executor:v1.23.2", description="kaniko executor image")
    namespace: str | None = Field(
        default=None, description="namespace the build Jobs run in; default cluster.lock_namespace"
    )
    context: Literal["git", "s3"] = Field(
        default="git",
        description=(
            "build context kaniko reads: git (the remote URL at the checked-out commit) or s3 (a tar.gz "
            "of the context after .dockerignore, uploaded to s3_bucket)"
        ),
    )
    s3_bucket: str | None = Field(default=None, description="bucket for s3 contexts (context: s3)")
    s3_prefix: str = Field(
        default="deploytag/contexts", description="key prefix of s3 contexts; keys are content hashes"
    )
    git_url: str | None = Field(
        default=None, description="repository URL kaniko clones; default the 'origin' remote"
    )
    git_ref: str | None = Field(
        default=None,
        description="ref kaniko fetches the commit from, e.g. refs/heads/main; default the checked-out branch",
    )


class BuilderSettings(SettingsModel):
    """buildah's storage and isolation, and the kaniko section."""

    buildah_root: Path | None = Field(
        default=None, description="buildah storage root (--root); default buildah's"
    )
    buildah_runroot: Path | None = Field(default=None, description="buildah run root (--runroot)")
    storage_driver: str | None = Field(
        default=None, description="buildah storage driver, e.g. vfs or overlay"
    )
    isolation: str = Field(
        default="chroot", description="buildah RUN isolation: chroot works inside containers"
    )
    kaniko: KanikoConfig = Field(default_factory=KanikoConfig, description="the kaniko builder")
