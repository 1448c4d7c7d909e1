"""THE SDK FALLBACK: requests through the official ``kubernetes`` client, for what the direct
transport (``transport``) does not implement.

``kubeconfig.Target.sdk_reason`` says when: a legacy ``auth-provider`` user (oidc, gcp,
azure: the SDK refreshes their tokens), a cluster ``proxy-url``, or a proxy from the
environment (HTTPS_PROXY, HTTP_PROXY ...) that NO_PROXY does not bypass. The SDK is
imported here, on first use, narrowed to what is needed (``sdk``). Every request goes
through ``ApiClient.call_api`` with a path, as the direct transport takes it, and its
failures (ApiException, urllib3's) are worded by ``errors.translate`` the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deploytag.adapters.kubernetes.errors import LOCAL_CLUSTER_HINT
from deploytag.adapters.kubernetes.kubeconfig import IN_CLUSTER, Target
from deploytag.core.errors import ClusterError, scrub


class SdkTransport:
    """The SDK's ApiClient for ``target``, loaded by the SDK's own kubeconfig or in-cluster loader."""

    def __init__(self, target: Target, *, location: str, timeout: tuple[float, float]) -> None:
        try:
            from urllib3.util.retry import Retry

            from deploytag.adapters.kubernetes import sdk

            client, config = sdk.load()
        except ImportError as e:
            raise ClusterError(
                f"the kubernetes Python client is not installed ({e.name})",
                hint="it is a core dependency: reinstall DeployTag (pip install --force-reinstall deploytag)",
            ) from e
        configuration = client.Configuration()
        if target.context == IN_CLUSTER:
            try:
                config.load_incluster_config(client_configuration=configuration)
            except Exception as e:
                raise ClusterError(
                    f"cannot use the in-cluster service account: {scrub(str(e))}",
                    hint="mount the service account token, or set KUBECONFIG or --kubeconfig",
                ) from e
        else:
            try:
                # persist_config=False: a CI tool must not rewrite the user's kubeconfig on token refresh.
                config.load_kube_config(
                    config_file=location,
                    context=target.context,
                    client_configuration=configuration,
                    persist_config=False,
                )
            except Exception as e:
                raise ClusterError(
                    f"cannot load context {target.context} from kubeconfig {location}: {scrub(str(e))[:300]}",
                    hint="check it with `kubectl config view --minify`, or set KUBECONFIG or --kubeconfig; "
                    + LOCAL_CLUSTER_HINT,
                ) from e
        # Retry only failed connects (nothing was sent). urllib3's default also repeats read
        # timeouts, which turns one hung API server into minutes of waiting; the caller
        # sees RetryableClusterError instead and decides.
        configuration.retries = Retry(total=3, connect=3, read=0, redirect=0, status=0, backoff_factor=0.2)
        self._api_client = client.ApiClient(configuration=configuration)
        self._timeout = timeout
        self.where = f"context {target.context} ({configuration.host})"

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str | int | bool | None] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        accept: str = "application/json",
    ) -> bytes:
        params = [
            (k, ("true" if v else "false") if isinstance(v, bool) else v) for k, v in (query or {}).items()
        ]
        response = self._api_client.call_api(
            path,
            method,
            query_params=[(k, v) for k, v in params if v is not None],
            header_params={"Accept": accept, "Content-Type": content_type},
            body=body,
            auth_settings=["BearerToken"],
            _return_http_data_only=True,
            _preload_content=False,
            _request_timeout=self._timeout,
        )
        try:
            data: bytes = response.data
        finally:
            response.release_conn()  # unread responses would otherwise hold pool connections
        return data
