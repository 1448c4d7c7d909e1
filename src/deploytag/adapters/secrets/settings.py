"""Settings of the secret stores, composed into ``secrets.*`` by the config schema.

The file store's path and the AWS store's region and endpoint sit here beside their
adapters (flat under ``secrets.``, as they always were); ``core.config.schema.SecretsConfig``
inherits ``SecretStoreSettings``, so a store's new option is added here and core is not edited.

Only pydantic and ``core.settingsmodel`` are imported: the schema imports this module (the
one exception to the layers; see the import-linter contracts in pyproject.toml), so it
must not reach an adapter or an SDK.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from deploytag.core.settingsmodel import SettingsModel


class SecretStoreSettings(SettingsModel):
    """The file store's path, then the AWS Secrets Manager store's region and endpoint."""

    file: Path = Field(
        default=Path("secrets.local.yaml"),
        description="file provider: YAML mapping id -> {KEY: value}, relative to the repo",
    )
    region: str | None = Field(default=None, description="aws provider: region; default from AWS config")
    endpoint_url: str | None = Field(
        default=None,
        description="aws provider: endpoint override (tests, LocalStack, VPC endpoints)",
    )
