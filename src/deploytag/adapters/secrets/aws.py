"""SecretStore over AWS Secrets Manager (``secrets.provider: aws``).

boto3 is imported lazily, inside this module's methods only, so ``deploytag
--help`` and every command that never reads AWS secrets start without paying for
it (import-linter keeps every other module from importing boto3/botocore).

How a secret becomes variables (one ``GetSecretValue`` per id, merged in the
order of ``secrets.ids``, later ids override earlier keys):

- a SecretString holding a JSON object gives one variable per key; keys must be
  environment variable names; string values are kept verbatim, other JSON values
  are JSON-encoded (``true``, ``5``, ``{"a":1}``);
- any other SecretString (plain text, or JSON that is not an object) gives ONE
  variable, named from the secret's name: its last ``/`` segment, upper-cased,
  every character other than A-Z/0-9 replaced by ``_``, and ``_`` put in front
  if it would start with a digit: ``staging/app`` -> ``APP``,
  ``staging/db-password`` -> ``DB_PASSWORD``, ``prod/stripe.key`` -> ``STRIPE_KEY``.
  For an ARN the secret's name as returned by AWS is used, not the ARN;
- ``ID#VARNAME`` names the variable explicitly and always takes the SecretString
  verbatim as that one variable, even when it is a JSON object (for example a
  credentials JSON file the app reads from one variable). ``#`` cannot occur in
  a secret name or ARN, so the split is unambiguous;
- SecretBinary is refused: a Kubernetes Secret value for an environment variable
  must be text.

The version recorded for an id is the secret's ``VersionId`` (AWSCURRENT), so
``put-secret-value`` changes it and the next deploy notices.

Region and endpoint come from ``secrets.region`` / ``secrets.endpoint_url`` and
otherwise from boto3's own resolution (``AWS_REGION``/``AWS_DEFAULT_REGION``,
``AWS_ENDPOINT_URL_SECRETS_MANAGER``/``AWS_ENDPOINT_URL``, ~/.aws/config).
Retries of throttling and 5xx are boto3's (``AWS_RETRY_MODE``,
``AWS_MAX_ATTEMPTS``); what is still failing after them is raised as
``RetryableSecretStoreError``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Self

from deploytag.adapters.common.sdkcheck import require
from deploytag.adapters.secrets.file import coerce_value, env_name_error
from deploytag.core.errors import RetryableSecretStoreError, SecretStoreError, scrub
from deploytag.ports.secrets import SecretBundle

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_secretsmanager.type_defs import GetSecretValueResponseTypeDef

    from deploytag.core.config import SecretsConfig

log = logging.getLogger(__name__)

NOT_FOUND_HINT = "create it or fix secrets.ids / --cloud-aws-secret-id"
CREDENTIALS_HINT = (
    "give deploytag AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
    "or run it with an IAM role (IRSA service account on EKS, instance profile, or OIDC in CI)"
)
ACCESS_HINT = (
    "allow the identity running deploytag the IAM action secretsmanager:GetSecretValue on this secret "
    "(and kms:Decrypt on its KMS key when it uses a customer-managed key)"
)
RETRY_HINT = (
    "try again shortly; if it keeps happening check the endpoint and network, "
    "or raise AWS_MAX_ATTEMPTS / set AWS_RETRY_MODE=adaptive"
)

# Seconds. botocore's defaults (60 s each) would leave a CI job hanging for minutes
# on a black-holed endpoint; a GetSecretValue answer is small and fast.
CONNECT_TIMEOUT_SECONDS = 10
READ_TIMEOUT_SECONDS = 30

# Longest AWS error message quoted in our errors: enough to name the principal
# in an AccessDenied, short enough to keep CI output readable.
_MAX_DETAIL = 300

_RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "InternalServiceError",
        "InternalFailure",
        "ServiceUnavailable",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "ExpiredTokenException",
        "ExpiredToken",
    }
)
_ACCESS_CODES = frozenset({"AccessDeniedException", "AccessDenied"})

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


def split_id(raw_id: str) -> tuple[str, str | None]:
    """``"staging/app#DB_URL"`` -> ``("staging/app", "DB_URL")``; no ``#`` -> ``(raw_id, None)``."""
    secret_id, sep, var_name = raw_id.rpartition("#")
    if not sep:
        return raw_id, None
    if not secret_id:
        raise SecretStoreError(
            f"secrets.ids entry {raw_id!r} has no secret id before '#'",
            hint="write it as SECRET_ID#VARNAME, e.g. staging/app#DATABASE_URL",
        )
    problem = env_name_error(var_name)
    if problem is not None:
        raise SecretStoreError(
            f"secrets.ids entry {raw_id!r}: the name after '#' is invalid: {problem}",
            hint="name the variable with letters, digits and '_', not starting with a digit",
        )
    return secret_id, var_name


def plain_variable_name(secret_name: str) -> str | None:
    """The variable a plain-string secret becomes (see the module docstring), or None if none can be made."""
    if secret_name.startswith("arn:") and ":secret:" in secret_name:
        # An ARN's name part ends in AWS's random "-AbCdEf" suffix; callers pass the
        # Name from the response instead, this only guards the fallback.
        secret_name = secret_name.split(":secret:", 1)[1]
    last = secret_name.rstrip("/").rsplit("/", 1)[-1]
    name = _NOT_ALNUM.sub("_", last).upper()
    if not name:
        return None
    if name[0].isdigit():
        name = "_" + name
    return name


def _readable_message(message: str) -> str:
    """AWS's error message; when botocore could not parse the body, the <Message> out of the raw XML."""
    if message.lstrip().startswith("<"):
        found = _XML_MESSAGE.search(message)
        return found.group(1) if found else "(unparsed error body)"
    return message


_XML_MESSAGE = re.compile(r"<Message>(.*?)</Message>", re.DOTALL)


class _RedactResponseBodies(logging.Filter):
    """botocore logs every response body at DEBUG, and GetSecretValue's body is the secret.

    With ``--debug`` (root logger at DEBUG) that would print every value; the body
    line is replaced, the rest of botocore's debug output is kept for diagnosis.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Response body"):
            record.msg = "Response body: [redacted by deploytag: it may hold secret values]"
            record.args = None
        return True


def _guard_botocore_logging() -> None:
    # A filter on the logger itself (not a handler) covers every handler anyone
    # attaches later, including pytest's caplog and the CLI's --debug handler.
    logger = logging.getLogger("botocore.parsers")
    if not any(isinstance(f, _RedactResponseBodies) for f in logger.filters):
        logger.addFilter(_RedactResponseBodies())


class AwsSecretsManagerStore:
    """SecretStore reading AWS Secrets Manager with the real boto3 client.

    ``client`` lets a caller hand in a ready client (another session, an assumed
    role); otherwise one is created on first use from ``region``/``endpoint_url``
    and the usual AWS credential chain.
    """

    name = "aws"

    def __init__(
        self,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        client: SecretsManagerClient | None = None,
    ) -> None:
        self.region = region
        self.endpoint_url = endpoint_url
        self._client = client
        _guard_botocore_logging()

    @classmethod
    def from_config(cls, *, config: SecretsConfig, root: Path) -> Self:
        """Build from ``secrets.*``; ``root`` is unused (nothing here is a path) but keeps one signature for all stores."""
        del root
        require("boto3", needed_for="the aws secret store (AWS Secrets Manager)")
        return cls(region=config.region, endpoint_url=config.endpoint_url)

    def __repr__(self) -> str:
        return f"AwsSecretsManagerStore(region={self.region!r}, endpoint_url={self.endpoint_url!r})"

    def fetch(self, *, ids: Sequence[str]) -> SecretBundle:
        merged: dict[str, str] = {}
        versions: dict[str, str] = {}
        # One read per secret even when it is listed twice (``app`` and ``app#RAW``),
        # so both see the same version.
        responses: dict[str, GetSecretValueResponseTypeDef] = {}
        for raw_id in ids:
            secret_id, var_name = split_id(raw_id)
            response = responses.get(secret_id)
            if response is None:
                response = self._get(secret_id=secret_id, known=merged.values())
                responses[secret_id] = response
            values = self._variables(
                secret_id=secret_id, var_name=var_name, response=response, known=merged.values()
            )
            merged.update(values)
            versions[raw_id] = response.get("VersionId", "")
            log.debug(
                "read %d variables from AWS secret %r (version %s)", len(values), secret_id, versions[raw_id]
            )
        return SecretBundle(values=merged, versions=versions)

    def describe_keys(self, *, ids: Sequence[str]) -> list[str]:
        # Secrets Manager has no "list keys" call: whether a secret is a JSON object
        # and which keys it has is only known from its value, read and dropped here.
        return self.fetch(ids=ids).keys

    # ------------------------------------------------------------------ internals

    def _get_client(self) -> SecretsManagerClient:
        if self._client is not None:
            return self._client
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, NoRegionError

        try:
            session = boto3.session.Session()
            self._client = session.client(
                "secretsmanager",
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                config=Config(
                    connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    read_timeout=READ_TIMEOUT_SECONDS,
                    user_agent_extra="deploytag",
                ),
            )
        except NoRegionError as e:
            raise SecretStoreError(
                "no AWS region configured for the secret store",
                hint="set secrets.region in deploytag.yaml, or AWS_REGION in the environment",
            ) from e
        except BotoCoreError as e:
            raise SecretStoreError(
                f"cannot set up the AWS Secrets Manager client: {scrub(str(e))[:_MAX_DETAIL]}",
                hint="check the AWS configuration (AWS_PROFILE, ~/.aws/config) and secrets.region",
            ) from e
        return self._client

    def _get(self, *, secret_id: str, known: Iterable[str]) -> GetSecretValueResponseTypeDef:
        client = self._get_client()
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return client.get_secret_value(SecretId=secret_id)
        except (ClientError, BotoCoreError) as e:
            raise self._translate(error=e, secret_id=secret_id, known=list(known)) from e

    def _translate(self, *, error: Exception, secret_id: str, known: list[str]) -> SecretStoreError:
        """One SecretStoreError for an SDK error: permanent or retryable, with what to do next."""
        from botocore.exceptions import (
            ClientError,
            CredentialRetrievalError,
            HTTPClientError,
            NoCredentialsError,
            PartialCredentialsError,
        )
        from botocore.exceptions import ConnectionError as BotoConnectionError

        client = self._get_client()
        region = client.meta.region_name
        where = f"secret {secret_id!r} in region {region}"

        if isinstance(error, ClientError):
            details = error.response.get("Error", {})
            code = str(details.get("Code", "") or "")
            aws_message = _readable_message(str(details.get("Message", "") or ""))
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            detail = scrub(f"{code}: {aws_message}" if aws_message else code, known)[:_MAX_DETAIL]
            if code == "ResourceNotFoundException":
                return SecretStoreError(
                    f"secret {secret_id!r} not found in region {region}", hint=NOT_FOUND_HINT
                )
            if code in _CREDENTIAL_CODES:
                return SecretStoreError(
                    f"AWS rejected the credentials reading {where} ({detail})", hint=CREDENTIALS_HINT
                )
            # A 403 without a modelled code is still a refusal by policy: IAM-enforcing
            # proxies and emulators answer with a generic XML body (moto gives Code "403").
            if code in _ACCESS_CODES or status == 403:
                return SecretStoreError(f"access denied reading {where} ({detail})", hint=ACCESS_HINT)
            if code == "DecryptionFailure":
                return SecretStoreError(
                    f"AWS could not decrypt {where} ({detail})",
                    hint="allow the identity running deploytag kms:Decrypt on the secret's KMS key",
                )
            if code in _RETRYABLE_CODES or status >= 500 or status == 429:
                return RetryableSecretStoreError(
                    f"AWS Secrets Manager failed or throttled reading {where} (HTTP {status}, {detail})",
                    hint=RETRY_HINT,
                )
            return SecretStoreError(
                f"AWS Secrets Manager refused reading {where} (HTTP {status}, {detail})",
                hint="check the secret's id and state (deleted or scheduled for deletion?) and secrets.ids",
            )
        if isinstance(error, NoCredentialsError | PartialCredentialsError | CredentialRetrievalError):
            return SecretStoreError(
                f"no usable AWS credentials to read {where}: {scrub(str(error), known)[:_MAX_DETAIL]}",
                hint=CREDENTIALS_HINT,
            )
        if isinstance(error, BotoConnectionError | HTTPClientError):
            endpoint = client.meta.endpoint_url
            return RetryableSecretStoreError(
                f"cannot reach AWS Secrets Manager at {endpoint} to read {where}: "
                f"{scrub(str(error), known)[:_MAX_DETAIL]}",
                hint=RETRY_HINT
                + " (secrets.endpoint_url / AWS_ENDPOINT_URL must point at a reachable endpoint)",
            )
        return SecretStoreError(
            f"reading {where} failed: {type(error).__name__}: {scrub(str(error), known)[:_MAX_DETAIL]}",
            hint="check secrets.ids and the AWS configuration (region, endpoint, profile)",
        )

    def _variables(
        self,
        *,
        secret_id: str,
        var_name: str | None,
        response: GetSecretValueResponseTypeDef,
        known: Iterable[str],
    ) -> dict[str, str]:
        secret_string = response.get("SecretString")
        if secret_string is None:
            if "SecretBinary" in response:
                raise SecretStoreError(
                    f"secret {secret_id!r} holds binary data (SecretBinary); only text secrets can be variables",
                    hint="store it as SecretString: a JSON object of KEY -> value, or plain text "
                    "(base64-encode binary data yourself and decode it in the app)",
                )
            raise SecretStoreError(
                f"secret {secret_id!r} has no value", hint="put one with aws secretsmanager put-secret-value"
            )
        if var_name is not None:
            return {var_name: secret_string}
        if secret_string.lstrip().startswith("{"):
            try:
                document = json.loads(secret_string)
            except json.JSONDecodeError as e:
                # Not chained: the decode error's ``doc`` attribute holds the whole secret.
                raise SecretStoreError(
                    f"secret {secret_id!r} looks like a JSON object but is not valid JSON "
                    f"(line {e.lineno}, column {e.colno}: {e.msg})",
                    hint=f"fix the JSON in the secret, or read it verbatim as one variable with "
                    f"'{secret_id}#VARNAME' in secrets.ids",
                ) from None
            if isinstance(document, dict):
                return self._object_variables(
                    secret_id=secret_id, document=document, known=[*known, secret_string]
                )
        name = plain_variable_name(response.get("Name") or secret_id)
        if name is None:
            raise SecretStoreError(
                f"cannot derive a variable name from secret {secret_id!r}",
                hint=f"name it explicitly with '{secret_id}#VARNAME' in secrets.ids",
            )
        return {name: secret_string}

    @staticmethod
    def _object_variables(*, secret_id: str, document: dict[str, object], known: list[str]) -> dict[str, str]:
        values: dict[str, str] = {}
        for key, raw in document.items():
            problem = env_name_error(key)
            if problem is not None:
                visible = [*known, *(v for v in document.values() if isinstance(v, str))]
                raise SecretStoreError(
                    scrub(f"secret {secret_id!r}: {problem}", visible),
                    hint="rename the key in the secret: letters, digits and '_', not starting with a digit",
                )
            values[key] = coerce_value(raw)
        return values
