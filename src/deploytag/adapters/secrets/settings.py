"""Settings of the secret stores, composed into ``secrets.*`` by the config schema.

The file store's path and the AWS store's region and endpoint sit here beside their
adapters (flat under ``secrets.``, as they always were). ``SecretStoreSettings`` extends the
common options (``core.sections.SecretsOptions``) and ``core.config.schema.SecretsConfig``
extends it, so a store's new option is added here and core is not edited.

Only msgspec and core are imported: the schema imports this module (the one exception to the
layers; see the import-linter contracts in pyproject.toml), so it must not reach an adapter or
an SDK.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from msgspec import Meta

from deploytag.core.sections import SecretsOptions


class SecretStoreSettings(SecretsOptions):
    """The file store's path, then the AWS Secrets Manager store's region and endpoint."""

    file: Annotated[
        Path, Meta(description="file provider: YAML mapping id -> {KEY: value}, relative to the repo")
    ] = Path("secrets.local.yaml")
    region: Annotated[str | None, Meta(description="aws provider: region; default from AWS config")] = None
    endpoint_url: Annotated[
        str | None,
        Meta(description="aws provider: endpoint override (tests, LocalStack, VPC endpoints)"),
    ] = None
