"""ECR credentials through boto3 against a real moto_server (GetAuthorizationToken)."""

from __future__ import annotations

import pytest

from deploytag.adapters.images.ecr import ecr_credentials
from deploytag.adapters.images.registry_auth import credential_source


def test_ecr_hosts_get_a_token_others_do_not(moto: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto)
    ecr_credentials.cache_clear()
    source = credential_source("auto", {"HOME": "/nonexistent"})
    creds = source.credentials(host="123456789012.dkr.ecr.us-east-1.amazonaws.com")
    assert creds is not None
    assert creds.username == "AWS" and creds.password
    assert creds.password not in repr(creds)  # never printed
    assert source.credentials(host="registry.example.com") is None
    assert (
        credential_source("none", {}).credentials(host="123456789012.dkr.ecr.us-east-1.amazonaws.com") is None
    )
