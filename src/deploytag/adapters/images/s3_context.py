"""Build contexts in S3 for kaniko (``--context=s3://bucket/key.tar.gz``), through boto3.

Keys are content hashes, so an upload is an ensure: a context already there is
not sent again. Region, endpoint and credentials come from boto3's own
resolution (``AWS_REGION``, ``AWS_ENDPOINT_URL``, profiles, roles).
"""

from __future__ import annotations

from typing import Any

from deploytag.adapters.common.sdkcheck import require
from deploytag.core.errors import ImageError

CONNECT_TIMEOUT_SECONDS = 10
READ_TIMEOUT_SECONDS = 120  # a context of some MB on a slow CI link
_MAX_DETAIL = 300


class S3ContextStore:
    def __init__(self, *, region: str | None = None) -> None:
        require("boto3", needed_for="kaniko's S3 build contexts")
        self._region = region
        self._client: Any = None  # no S3 stubs installed; the calls below are the documented API

    def _s3(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.session.Session().client(
                "s3",
                region_name=self._region,
                config=Config(
                    connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    read_timeout=READ_TIMEOUT_SECONDS,
                    user_agent_extra="deploytag",
                ),
            )
        return self._client

    def ensure_object(self, *, bucket: str, key: str, body: bytes) -> bool:
        """Upload unless the key exists; True when it was uploaded."""
        from botocore.exceptions import BotoCoreError, ClientError

        client = self._s3()
        try:
            try:
                client.head_object(Bucket=bucket, Key=key)
                return False
            except ClientError as e:
                if str(e.response.get("Error", {}).get("Code")) not in ("404", "NoSuchKey", "NotFound"):
                    raise
            client.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/gzip")
            return True
        except (BotoCoreError, ClientError) as e:
            raise ImageError(
                f"uploading the build context to s3://{bucket}/{key} failed: {str(e)[:_MAX_DETAIL]}",
                hint="check build.kaniko.s3_bucket and that deploytag's AWS identity may s3:PutObject there",
            ) from e
