"""ECR's registry credentials: ``GetAuthorizationToken`` through boto3 (imported lazily).

The token is valid for 12 hours and is only ever held in memory or in the 0600
auth file a build uses; boto3 finds region credentials the usual way, and
``AWS_ENDPOINT_URL_ECR`` / ``AWS_ENDPOINT_URL`` point it at an emulator.
"""

from __future__ import annotations

import base64
import functools

from deploytag.adapters.common.sdkcheck import require
from deploytag.core.errors import ImageError, RetryableImageError, scrub
from deploytag.ports.images import RegistryCredentials


@functools.cache
def ecr_credentials(*, region: str) -> RegistryCredentials:
    require("boto3", needed_for="logging in to ECR")
    import boto3
    import botocore.exceptions

    try:
        client = boto3.client("ecr", region_name=region)
        reply = client.get_authorization_token()
        data = reply["authorizationData"][0]["authorizationToken"]
    except botocore.exceptions.NoCredentialsError as e:
        raise ImageError(
            "no AWS credentials to log in to ECR",
            hint="set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or use build.registry_auth",
        ) from e
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        raise RetryableImageError(
            f"ECR GetAuthorizationToken failed: {scrub(str(e))[:200]}",
            hint="check the AWS region, credentials and ecr:GetAuthorizationToken permission",
        ) from e
    user, _, password = base64.b64decode(data).decode().partition(":")
    return RegistryCredentials(user, password)
