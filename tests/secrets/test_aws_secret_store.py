"""AwsSecretsManagerStore with the real boto3 client against a real moto_server over HTTP.

Failures moto cannot produce (throttling, 5xx, AWS's own AccessDeniedException
shape) come from a tiny local HTTP double that answers in the Secrets Manager
JSON protocol, still parsed by the real botocore.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from deploytag.adapters.secrets.aws import AwsSecretsManagerStore, plain_variable_name, split_id
from deploytag.core.config import SecretsConfig
from deploytag.core.errors import RetryableSecretStoreError, SecretStoreError

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

REGION = "us-east-1"  # the region conftest's aws_env configures

# Values long and odd enough that finding one anywhere can only be a leak.
DB_PASSWORD = "pw-Zq81!vX$hunter2-database"
API_KEY = "ak-9f3e0c7d-very-secret-api-key"
PLAIN_TOKEN = "tok-4c1b7a-plain-string-secret"


@pytest.fixture
def store(moto: str) -> AwsSecretsManagerStore:
    return AwsSecretsManagerStore(region=REGION, endpoint_url=moto)


# --------------------------------------------------------------------------- happy paths


def test_json_secret_becomes_one_variable_per_key(
    sm: SecretsManagerClient, store: AwsSecretsManagerStore
) -> None:
    sm.create_secret(
        Name="staging/app",
        SecretString=json.dumps(
            {
                "DATABASE_PASSWORD": DB_PASSWORD,
                "API_KEY": API_KEY,
                "PORT": 5432,
                "DEBUG": True,
                "EXTRA": {"a": [1, 2]},
                "NOTHING": None,
            }
        ),
    )
    bundle = store.fetch(ids=["staging/app"])
    assert dict(bundle.values) == {
        "DATABASE_PASSWORD": DB_PASSWORD,
        "API_KEY": API_KEY,
        "PORT": "5432",
        "DEBUG": "true",
        "EXTRA": '{"a":[1,2]}',
        "NOTHING": "null",
    }
    assert DB_PASSWORD not in repr(bundle)


def test_plain_string_secret_is_named_after_the_last_path_segment(
    sm: SecretsManagerClient, store: AwsSecretsManagerStore
) -> None:
    sm.create_secret(Name="staging/app", SecretString=PLAIN_TOKEN)
    sm.create_secret(Name="staging/db-password", SecretString=DB_PASSWORD)
    sm.create_secret(Name="prod/stripe.key", SecretString=API_KEY)
    bundle = store.fetch(ids=["staging/app", "staging/db-password", "prod/stripe.key"])
    assert dict(bundle.values) == {"APP": PLAIN_TOKEN, "DB_PASSWORD": DB_PASSWORD, "STRIPE_KEY": API_KEY}


def test_hash_names_the_variable_and_takes_json_verbatim(
    sm: SecretsManagerClient, store: AwsSecretsManagerStore
) -> None:
    document = json.dumps({"type": "service_account", "key": API_KEY})
    sm.create_secret(Name="staging/gcp", SecretString=document)
    sm.create_secret(Name="staging/app", SecretString=PLAIN_TOKEN)
    bundle = store.fetch(ids=["staging/gcp#GOOGLE_CREDENTIALS", "staging/app#SESSION_TOKEN"])
    assert dict(bundle.values) == {"GOOGLE_CREDENTIALS": document, "SESSION_TOKEN": PLAIN_TOKEN}
    assert set(bundle.versions) == {"staging/gcp#GOOGLE_CREDENTIALS", "staging/app#SESSION_TOKEN"}


def test_arn_id_uses_the_secret_name_not_the_arn_suffix(
    sm: SecretsManagerClient, store: AwsSecretsManagerStore
) -> None:
    arn = sm.create_secret(Name="staging/signing-key", SecretString=PLAIN_TOKEN)["ARN"]
    assert arn.rsplit("/", 1)[1] != "signing-key"  # ARNs end in a random suffix
    assert dict(store.fetch(ids=[arn]).values) == {"SIGNING_KEY": PLAIN_TOKEN}


def test_json_that_is_not_an_object_is_a_plain_string(
    sm: SecretsManagerClient, store: AwsSecretsManagerStore
) -> None:
    sm.create_secret(Name="staging/pin", SecretString="12345")
    sm.create_secret(Name="staging/list", SecretString="[1, 2]")
    assert dict(store.fetch(ids=["staging/pin", "staging/list"]).values) == {"PIN": "12345", "LIST": "[1, 2]"}


def test_several_ids_merge_in_order_later_wins(
    sm: SecretsManagerClient, store: AwsSecretsManagerStore
) -> None:
    sm.create_secret(Name="staging/app", SecretString=json.dumps({"A": "from-app", "B": "from-app"}))
    sm.create_secret(Name="staging/override", SecretString=json.dumps({"B": "from-override", "C": "c"}))
    bundle = store.fetch(ids=["staging/app", "staging/override"])
    assert dict(bundle.values) == {"A": "from-app", "B": "from-override", "C": "c"}
    reversed_bundle = store.fetch(ids=["staging/override", "staging/app"])
    assert reversed_bundle.values["B"] == "from-app"


def test_version_is_the_version_id_and_changes_after_put(
    sm: SecretsManagerClient, store: AwsSecretsManagerStore
) -> None:
    created = sm.create_secret(Name="staging/app", SecretString=json.dumps({"API_KEY": API_KEY}))
    first = store.fetch(ids=["staging/app"])
    assert first.versions == {"staging/app": created["VersionId"]}
    assert store.fetch(ids=["staging/app"]).versions == first.versions  # unchanged -> same

    put = sm.put_secret_value(SecretId="staging/app", SecretString=json.dumps({"API_KEY": "rotated-key"}))
    second = store.fetch(ids=["staging/app"])
    assert second.versions == {"staging/app": put["VersionId"]}
    assert second.versions != first.versions
    assert second.values["API_KEY"] == "rotated-key"


def test_describe_keys_returns_names_only(sm: SecretsManagerClient, store: AwsSecretsManagerStore) -> None:
    sm.create_secret(Name="staging/app", SecretString=json.dumps({"B": DB_PASSWORD, "A": API_KEY}))
    sm.create_secret(Name="staging/token", SecretString=PLAIN_TOKEN)
    keys = store.describe_keys(ids=["staging/app", "staging/token"])
    assert keys == ["A", "B", "TOKEN"]


def test_endpoint_from_aws_endpoint_url_env(
    sm: SecretsManagerClient, moto: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sm.create_secret(Name="staging/app", SecretString=PLAIN_TOKEN)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto)
    store = AwsSecretsManagerStore.from_config(config=SecretsConfig(provider="aws"), root=Path("."))
    assert dict(store.fetch(ids=["staging/app"]).values) == {"APP": PLAIN_TOKEN}


def test_from_config_takes_region_and_endpoint(sm: SecretsManagerClient, moto: str) -> None:
    sm.create_secret(Name="staging/app", SecretString=PLAIN_TOKEN)
    config = SecretsConfig(provider="aws", region=REGION, endpoint_url=moto, ids=["staging/app"])
    store = AwsSecretsManagerStore.from_config(config=config, root=Path("/nonexistent"))
    assert store.region == REGION
    assert store.endpoint_url == moto
    assert dict(store.fetch(ids=config.ids).values) == {"APP": PLAIN_TOKEN}


def test_no_ids_reads_nothing() -> None:
    # No client is created for an empty list, so not even a region is needed.
    assert dict(AwsSecretsManagerStore().fetch(ids=[]).values) == {}


# --------------------------------------------------------------------------- errors


def test_not_found(store: AwsSecretsManagerStore) -> None:
    with pytest.raises(SecretStoreError) as info:
        store.fetch(ids=["staging/missing"])
    e = info.value
    assert e.message == f"secret 'staging/missing' not found in region {REGION}"
    assert e.hint is not None
    assert "secrets.ids" in e.hint
    assert "--cloud-aws-secret-id" in e.hint
    assert e.retryable is False
    assert type(e).__name__ == "SecretStoreError"
    assert isinstance(e.__cause__, ClientError)


def test_binary_secret_is_refused(sm: SecretsManagerClient, store: AwsSecretsManagerStore) -> None:
    sm.create_secret(Name="staging/blob", SecretBinary=DB_PASSWORD.encode())
    with pytest.raises(SecretStoreError, match="SecretBinary") as info:
        store.fetch(ids=["staging/blob"])
    assert info.value.hint is not None
    assert "SecretString" in info.value.hint
    assert DB_PASSWORD not in str(info.value)


def test_invalid_key_is_named(sm: SecretsManagerClient, store: AwsSecretsManagerStore) -> None:
    sm.create_secret(Name="staging/app", SecretString=json.dumps({"GOOD": API_KEY, "bad-key": DB_PASSWORD}))
    with pytest.raises(SecretStoreError, match="'bad-key' is not a valid environment variable name"):
        store.fetch(ids=["staging/app"])


def test_broken_json_object_is_an_error_not_a_plain_string(
    sm: SecretsManagerClient, store: AwsSecretsManagerStore
) -> None:
    sm.create_secret(Name="staging/app", SecretString='{"API_KEY": "' + API_KEY + '",}')
    with pytest.raises(SecretStoreError, match="not valid JSON") as info:
        store.fetch(ids=["staging/app"])
    assert info.value.hint is not None
    assert "staging/app#VARNAME" in info.value.hint
    assert API_KEY not in str(info.value)
    assert info.value.__cause__ is None  # the decode error carries the whole document


@pytest.mark.parametrize(
    ("raw", "problem"),
    [("#VAR", "no secret id before '#'"), ("staging/app#", "invalid"), ("staging/app#1ABC", "invalid")],
)
def test_bad_hash_entries_fail_before_any_call(raw: str, problem: str) -> None:
    with pytest.raises(SecretStoreError, match=problem):
        AwsSecretsManagerStore(endpoint_url="http://127.0.0.1:9").fetch(ids=[raw])


def test_naming_rule() -> None:
    assert split_id("staging/app") == ("staging/app", None)
    assert split_id("staging/app#DB_URL") == ("staging/app", "DB_URL")
    assert plain_variable_name("staging/app") == "APP"
    assert plain_variable_name("a/b/c-d.e+f=g@h") == "C_D_E_F_G_H"
    assert plain_variable_name("staging/1password") == "_1PASSWORD"
    assert plain_variable_name("toplevel") == "TOPLEVEL"
    assert plain_variable_name("arn:aws:secretsmanager:us-east-1:1:secret:staging/app") == "APP"
    assert plain_variable_name("staging/") == "STAGING"
    assert plain_variable_name("") is None


def test_access_denied_from_moto_iam(
    sm: SecretsManagerClient, moto: str, moto_api: Callable[[str, bytes], bytes]
) -> None:
    """moto enforces IAM once its no-auth request budget is spent: a user without policies is refused."""
    import boto3

    # The next 3 requests (create user, create key, create secret) are let through
    # unauthenticated; everything after them is checked against IAM.
    moto_api("/moto-api/reset-auth", b"3")
    try:
        iam = boto3.client("iam", endpoint_url=moto, region_name=REGION)
        iam.create_user(UserName="deployer")
        key = iam.create_access_key(UserName="deployer")["AccessKey"]
        sm.create_secret(Name="staging/app", SecretString=json.dumps({"API_KEY": API_KEY}))
        client = boto3.session.Session(
            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
        ).client("secretsmanager", endpoint_url=moto, region_name=REGION)
        store = AwsSecretsManagerStore(client=client)
        with pytest.raises(SecretStoreError) as info:
            store.fetch(ids=["staging/app"])
    finally:
        moto_api("/moto-api/reset-auth", b"inf")
    e = info.value
    assert not e.retryable
    assert e.message.startswith(f"access denied reading secret 'staging/app' in region {REGION}")
    assert "user/deployer is not authorized" in e.message  # the XML body reduced to its <Message>
    assert "<?xml" not in e.message
    assert e.hint is not None
    assert "secretsmanager:GetSecretValue" in e.hint


def test_no_credentials(moto: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    store = AwsSecretsManagerStore(region=REGION, endpoint_url=moto)
    with pytest.raises(SecretStoreError) as info:
        store.fetch(ids=["staging/app"])
    e = info.value
    assert not e.retryable
    assert "no usable AWS credentials" in e.message
    assert e.hint is not None
    for term in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "IRSA"):
        assert term in e.hint
    assert type(e.__cause__).__name__ == "NoCredentialsError"


def test_no_region(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(SecretStoreError, match="no AWS region") as info:
        AwsSecretsManagerStore(endpoint_url="http://127.0.0.1:9").fetch(ids=["staging/app"])
    assert info.value.hint is not None
    assert "secrets.region" in info.value.hint


def test_unreachable_endpoint_is_retryable(aws_env: None, unused_port: int) -> None:
    closed = f"http://127.0.0.1:{unused_port}"  # nothing listens there any more
    store = AwsSecretsManagerStore(region=REGION, endpoint_url=closed)
    with pytest.raises(RetryableSecretStoreError) as info:
        store.fetch(ids=["staging/app"])
    assert info.value.retryable
    assert closed in info.value.message
    assert type(info.value.__cause__).__name__ == "EndpointConnectionError"


# --------------------------------------------------------------------------- HTTP double for what moto cannot do


class _Handler(BaseHTTPRequestHandler):
    """Answers GetSecretValue in the awsJson1_1 protocol with the error named by the SecretId."""

    ANSWERS: dict[str, tuple[int, str, str]] = {
        "throttled": (400, "ThrottlingException", "Rate exceeded"),
        "broken": (500, "InternalServiceError", "internal failure"),
        "denied": (
            400,
            "AccessDeniedException",
            "User: arn:aws:sts::1:assumed-role/ci/x is not authorized to perform: "
            "secretsmanager:GetSecretValue on resource: denied",
        ),
        "kms": (400, "DecryptionFailure", "Access to KMS is not allowed"),
        "expired": (400, "ExpiredTokenException", "The security token included in the request is expired"),
        "deleted": (400, "InvalidRequestException", "You can't perform this operation on a deleted secret"),
    }

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        secret_id = json.loads(self.rfile.read(length) or b"{}").get("SecretId", "")
        if secret_id == "html503":
            self._send(503, "text/html", b"<html><body>Service Unavailable</body></html>")
            return
        status, code, message = self.ANSWERS[secret_id]
        body = json.dumps({"__type": code, "message": message}).encode()
        self._send(status, "application/x-amz-json-1.1", body)

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", "test")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def double() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("secret_id", ["throttled", "broken", "html503"])
def test_throttling_and_5xx_are_retryable(double: str, aws_env: None, secret_id: str) -> None:
    store = AwsSecretsManagerStore(region=REGION, endpoint_url=double)
    with pytest.raises(RetryableSecretStoreError) as info:
        store.fetch(ids=[secret_id])
    assert info.value.retryable
    assert f"secret {secret_id!r}" in info.value.message
    assert info.value.hint is not None
    assert "AWS_MAX_ATTEMPTS" in info.value.hint


@pytest.mark.parametrize(
    ("secret_id", "message_part", "hint_part"),
    [
        ("denied", "access denied reading secret 'denied'", "secretsmanager:GetSecretValue"),
        ("kms", "could not decrypt", "kms:Decrypt"),
        ("expired", "rejected the credentials", "AWS_PROFILE"),
        ("deleted", "refused reading secret 'deleted'", "scheduled for deletion"),
    ],
)
def test_permanent_client_errors(
    double: str, aws_env: None, secret_id: str, message_part: str, hint_part: str
) -> None:
    store = AwsSecretsManagerStore(region=REGION, endpoint_url=double)
    with pytest.raises(SecretStoreError) as info:
        store.fetch(ids=[secret_id])
    e = info.value
    assert not e.retryable
    assert not isinstance(e, RetryableSecretStoreError)
    assert message_part in e.message
    assert e.hint is not None
    assert hint_part in e.hint
    assert isinstance(e.__cause__, ClientError)


# --------------------------------------------------------------------------- secrecy


def test_values_never_appear_in_errors_or_logs(
    sm: SecretsManagerClient, store: AwsSecretsManagerStore, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = [DB_PASSWORD, API_KEY, PLAIN_TOKEN]
    sm.create_secret(Name="staging/app", SecretString=json.dumps({"DATABASE_PASSWORD": DB_PASSWORD}))
    sm.create_secret(Name="staging/token", SecretString=PLAIN_TOKEN)
    sm.create_secret(Name="staging/badkey", SecretString=json.dumps({"OK": API_KEY, "no-good": DB_PASSWORD}))
    sm.create_secret(Name="staging/badjson", SecretString='{"K": "' + API_KEY + '"')
    sm.create_secret(Name="staging/blob", SecretBinary=API_KEY.encode())

    failures: list[SecretStoreError] = []
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        bundle = store.fetch(ids=["staging/app", "staging/token"])
        assert set(bundle.values.values()) == {DB_PASSWORD, PLAIN_TOKEN}
        for bad in ("staging/missing", "staging/badkey", "staging/badjson", "staging/blob"):
            with pytest.raises(SecretStoreError) as info:
                store.fetch(ids=["staging/app", "staging/token", bad])
            failures.append(info.value)

    assert len(failures) == 4
    texts = [repr(bundle), str(bundle)]
    for e in failures:
        texts += [str(e), repr(e), e.hint or "", "".join(traceback.format_exception(e))]
    records = caplog.records
    # botocore logged at DEBUG, so this proves its response bodies were redacted, not silent.
    assert any("Response body" in r.getMessage() for r in records)
    for r in records:
        texts.append(r.getMessage())
        if r.exc_info:
            texts.append("".join(traceback.format_exception(*r.exc_info)))
    for text in texts:
        for value in secrets:
            assert value not in text
