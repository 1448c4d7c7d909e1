"""Both built-in secret stores are found through entry points, built the same way, and start cheaply."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

from deploytag.adapters.secrets.aws import AwsSecretsManagerStore
from deploytag.adapters.secrets.file import FileSecretStore
from deploytag.core.config import SecretsConfig
from deploytag.ports.secrets import SecretStore


def test_entry_points_find_both_built_ins() -> None:
    found = {ep.name: ep for ep in importlib.metadata.entry_points(group="deploytag.secret_stores")}
    assert {"file", "aws"} <= set(found)
    assert found["file"].load() is FileSecretStore
    assert found["aws"].load() is AwsSecretsManagerStore


def test_every_store_is_built_by_the_same_from_config(tmp_path: Path) -> None:
    config = SecretsConfig(provider="aws", region="eu-west-1", endpoint_url="http://127.0.0.1:9")
    for ep in importlib.metadata.entry_points(group="deploytag.secret_stores"):
        if ep.name not in {"file", "aws"}:
            continue
        store: SecretStore = ep.load().from_config(config=config, root=tmp_path)
        assert store.name == ep.name
        # Building a store must not touch the outside world: nothing to read yet.
        assert store.fetch(ids=[]).keys == []


def test_importing_the_aws_adapter_does_not_import_boto3() -> None:
    code = (
        "import sys, deploytag.adapters.secrets.aws, deploytag.adapters.secrets.file\n"
        "deploytag.adapters.secrets.aws.AwsSecretsManagerStore(region='us-east-1')\n"
        "loaded = sorted(m for m in ('boto3', 'botocore', 'yaml') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
