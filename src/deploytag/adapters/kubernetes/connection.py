"""One API server connection: kubeconfig or in-cluster loading, a private ApiClient, requests.

The SDK is imported here on first use, never at module import: the CLI starts
without it and commands that need no cluster never pay for it. Each connection
has its own ``Configuration`` and ``ApiClient`` (never the SDK's global default)
so two clusters, or tests with several fake servers, do not share state.

Responses are read as raw JSON (``_preload_content=False``): it skips the SDK's
slow model deserialisation, keeps Secret bodies out of its debug log, and gives
the converters plain dicts whatever the server or fake sends.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from deploytag.adapters.kubernetes.errors import LOCAL_CLUSTER_HINT, Op, translate
from deploytag.core.errors import ClusterError, scrub

# (connect, read) seconds: fail fast on a dead address, allow a busy API server a minute.
DEFAULT_TIMEOUT = (10.0, 60.0)
_PAGE_SIZE = 500
_GROUPS = {
    "core": "CoreV1Api",
    "apps": "AppsV1Api",
    "coordination": "CoordinationV1Api",
    "batch": "BatchV1Api",
}


class _RawApi:
    """Any path of the API (discovery, the scale and finalize subresources, any resource type),
    through the same ApiClient, so errors, timeouts and authentication are the typed APIs'."""

    def __init__(self, api_client: Any) -> None:
        self.api_client = api_client

    def call(
        self,
        http_method: str,
        path: str,
        *,
        query: Sequence[tuple[str, Any]] = (),
        body: Any = None,
        content_type: str = "application/json",
        **kwargs: Any,
    ) -> Any:
        paging = [
            (k, v)
            for k, v in (("limit", kwargs.pop("limit", None)), ("continue", kwargs.pop("_continue", None)))
            if v
        ]
        return self.api_client.call_api(
            path,
            http_method,
            query_params=[*query, *paging],
            header_params={"Accept": "application/json", "Content-Type": content_type},
            body=body,
            auth_settings=["BearerToken"],
            _return_http_data_only=True,
            **kwargs,
        )


@dataclass(frozen=True)
class _Session:
    apis: dict[str, Any]  # "core"/"apps"/"coordination" -> the SDK's API object
    where: str  # "context X (https://...)" for messages


class Connection:
    """Loads configuration lazily (once, thread-safe) and performs requests."""

    def __init__(
        self,
        *,
        kubeconfig: str | None,
        context: str | None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self._kubeconfig = kubeconfig
        self._context = context
        self._timeout = timeout
        self._lock = threading.Lock()
        self._session: _Session | None = None

    def describe(self) -> str:
        return self._open().where

    def json(self, op: Op, method: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Call ``"group.method"`` (e.g. ``"core.read_namespace"``) and return the parsed body."""
        data = self._raw(op, method, *args, **kwargs)
        if not data:
            return {}
        try:
            parsed = json.loads(data)
        except ValueError as e:
            raise ClusterError(
                f"{self.describe()} answered {op.verb} {op.what()} with something other than JSON",
                hint="check that the kubeconfig's server URL is the Kubernetes API, not a proxy or login page",
            ) from e
        return parsed if isinstance(parsed, dict) else {}

    def items(self, op: Op, method: str, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        """Every item of a list call, page by page so a large cluster is not one huge response."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            paging = {"limit": _PAGE_SIZE, "_continue": token} if token else {"limit": _PAGE_SIZE}
            page = self.json(op, method, *args, **kwargs, **paging)
            found += [item for item in page.get("items") or [] if isinstance(item, dict)]
            token = (page.get("metadata") or {}).get("continue") or None
            if token is None:
                return found

    def text(self, op: Op, method: str, *args: Any, **kwargs: Any) -> str:
        """For endpoints that answer with text (pod logs)."""
        return self._raw(op, method, *args, **kwargs).decode("utf-8", "replace")

    def _raw(self, op: Op, method: str, *args: Any, **kwargs: Any) -> bytes:
        session = self._open()
        group, _, name = method.partition(".")
        call = getattr(session.apis[group], name)
        try:
            response = call(*args, _preload_content=False, _request_timeout=self._timeout, **kwargs)
            try:
                data: bytes = response.data
            finally:
                response.release_conn()  # unread responses would otherwise hold pool connections
        except Exception as e:
            mapped = translate(e, op=op, where=session.where)
            if mapped is None:
                raise
            raise mapped from e
        return data

    def _open(self) -> _Session:
        with self._lock:
            if self._session is None:
                self._session = self._load()
            return self._session

    def _load(self) -> _Session:
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
        explicit = self._kubeconfig is not None
        location = self._kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        paths = [os.path.expanduser(p) for p in location.split(os.pathsep) if p]
        if not any(os.path.isfile(p) for p in paths):
            if explicit or not os.environ.get("KUBERNETES_SERVICE_HOST"):
                raise ClusterError(
                    f"no kubeconfig found at {location}",
                    hint=f"set KUBECONFIG or --kubeconfig; {LOCAL_CLUSTER_HINT}",
                )
            context = "in-cluster service account"
            try:
                config.load_incluster_config(client_configuration=configuration)
            except Exception as e:
                raise ClusterError(
                    f"cannot use the in-cluster service account: {scrub(str(e))}",
                    hint="mount the service account token, or set KUBECONFIG or --kubeconfig",
                ) from e
        else:
            context = self._pick_context(paths, location)
            try:
                # persist_config=False: a CI tool must not rewrite the user's kubeconfig on token refresh.
                config.load_kube_config(
                    config_file=location,
                    context=self._context,
                    client_configuration=configuration,
                    persist_config=False,
                )
            except Exception as e:
                raise ClusterError(
                    f"cannot load context {context} from kubeconfig {location}: {scrub(str(e))[:300]}",
                    hint="check it with `kubectl config view --minify`, or set KUBECONFIG or --kubeconfig; "
                    + LOCAL_CLUSTER_HINT,
                ) from e
        # Retry only failed connects (nothing was sent). urllib3's default also repeats read
        # timeouts, which turns one hung API server into minutes of waiting; the caller
        # sees RetryableClusterError instead and decides.
        configuration.retries = Retry(total=3, connect=3, read=0, redirect=0, status=0, backoff_factor=0.2)
        api_client = client.ApiClient(configuration=configuration)
        apis: dict[str, Any] = {group: getattr(client, cls)(api_client) for group, cls in _GROUPS.items()}
        apis["raw"] = _RawApi(api_client)
        return _Session(apis=apis, where=f"context {context} ({configuration.host})")

    def _pick_context(self, paths: Sequence[str], location: str) -> str:
        """The context that will be used, checked first so the message can list the choices."""
        import yaml

        names: list[str] = []
        current = ""
        for path in paths:
            try:
                with open(path, encoding="utf-8") as f:
                    data = yaml.safe_load(f) or {}
            except FileNotFoundError:
                continue  # like kubectl, a missing entry of a KUBECONFIG list is skipped
            except (OSError, yaml.YAMLError) as e:
                raise ClusterError(
                    f"cannot read kubeconfig {path}: {scrub(str(e))[:300]}",
                    hint="fix the file, or set KUBECONFIG or --kubeconfig to another one",
                ) from e
            if not isinstance(data, dict):
                continue
            names += [c.get("name", "") for c in data.get("contexts") or [] if isinstance(c, dict)]
            current = current or str(data.get("current-context") or "")
        wanted = self._context or current
        choices = ", ".join(n for n in names if n) or "none"
        if not wanted:
            raise ClusterError(
                f"kubeconfig {location} names no current context",
                hint=f"pass --context (one of: {choices}) or run `kubectl config use-context NAME`",
            )
        if wanted not in names:
            raise ClusterError(
                f"context {wanted} is not in kubeconfig {location}",
                hint=f"use one of: {choices} (--context), or set KUBECONFIG or --kubeconfig; "
                + LOCAL_CLUSTER_HINT,
            )
        return wanted
