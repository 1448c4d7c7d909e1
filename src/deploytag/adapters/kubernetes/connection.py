"""One API server connection: kubeconfig or in-cluster loading, then requests by path.

Requests go over the direct transport (``transport``: http.client and ssl) unless
the context needs what only the official client does (``sdkfallback``: legacy
auth-providers, proxies). Nothing is loaded or imported before the first use, so
commands that need no cluster never pay for it. Each connection has its own
transport, so two clusters, or tests with several servers, do not share state.

Callers name the request (method, path, query, body) and an ``Op`` that words its
failures. Answers are read as raw JSON: the converters get plain dicts, and
Secret bodies go through no client's debug log.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from deploytag.adapters.kubernetes import kubeconfig
from deploytag.adapters.kubernetes.errors import LOCAL_CLUSTER_HINT, Op, translate
from deploytag.core.errors import ClusterError, scrub

# (connect, read) seconds: fail fast on a dead address, allow a busy API server a minute.
DEFAULT_TIMEOUT = (10.0, 60.0)
JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
_PAGE_SIZE = 500
Query = Mapping[str, str | int | bool | None]


def resource_path(
    api_version: str, resource: str, name: str = "", *, namespace: str = "", subresource: str = ""
) -> str:
    """``/api/v1/namespaces/NS/pods/NAME/log`` and the like; ``api_version`` "v1" is the core group."""
    parts = ["api", "v1"] if api_version == "v1" else ["apis", *api_version.split("/")]
    if namespace:
        parts += ["namespaces", quote(namespace, safe="")]
    parts.append(resource)
    if name:
        parts.append(quote(name, safe=""))
    if subresource:
        parts.append(subresource)
    return "/" + "/".join(parts)


class _Transport(Protocol):
    def request(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: Any = None,
        content_type: str = JSON,
        accept: str = JSON,
    ) -> bytes: ...


@dataclass(frozen=True)
class _Session:
    transport: _Transport
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

    def json(
        self,
        op: Op,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: Any = None,
        content_type: str = JSON,
    ) -> dict[str, Any]:
        """``method path`` (e.g. ``GET /api/v1/namespaces/x``) and the parsed answer."""
        data = self._raw(op, method, path, query=query, body=body, content_type=content_type)
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

    def items(self, op: Op, path: str, *, query: Query | None = None) -> list[dict[str, Any]]:
        """Every item of a list, page by page so a large cluster is not one huge response."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            paging = {"limit": _PAGE_SIZE, "continue": token}
            page = self.json(op, "GET", path, query={**(query or {}), **paging})
            found += [item for item in page.get("items") or [] if isinstance(item, dict)]
            token = (page.get("metadata") or {}).get("continue") or None
            if token is None:
                return found

    def text(self, op: Op, path: str, *, query: Query | None = None) -> str:
        """For endpoints that answer with text (pod logs)."""
        return self._raw(op, "GET", path, query=query, accept="*/*").decode("utf-8", "replace")

    def _raw(
        self,
        op: Op,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: Any = None,
        content_type: str = JSON,
        accept: str = JSON,
    ) -> bytes:
        session = self._open()
        try:
            return session.transport.request(
                method, path, query=query, body=body, content_type=content_type, accept=accept
            )
        except Exception as e:
            mapped = translate(e, op=op, where=session.where)
            if mapped is None:
                raise
            raise mapped from e

    def _open(self) -> _Session:
        with self._lock:
            if self._session is None:
                self._session = self._load()
            return self._session

    def _load(self) -> _Session:
        location, paths = kubeconfig.locate(self._kubeconfig)
        if any(os.path.isfile(p) for p in paths):
            target = kubeconfig.load(paths, location, self._context)
        elif self._kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
            target = kubeconfig.in_cluster()
        else:
            raise ClusterError(
                f"no kubeconfig found at {location}",
                hint=f"set KUBECONFIG or --kubeconfig; {LOCAL_CLUSTER_HINT}",
            )
        if target.sdk_reason:
            from deploytag.adapters.kubernetes.sdkfallback import SdkTransport

            fallback = SdkTransport(target, location=location, timeout=self._timeout)
            return _Session(transport=fallback, where=fallback.where)
        from deploytag.adapters.kubernetes.transport import RestTransport

        try:
            transport = RestTransport(target, timeout=self._timeout)
        except (OSError, ValueError) as e:  # ssl.SSLError is an OSError: an unusable CA, certificate or key
            if target.context == kubeconfig.IN_CLUSTER:
                raise ClusterError(
                    f"cannot use the in-cluster service account: {scrub(str(e))[:300]}",
                    hint="mount the service account token, or set KUBECONFIG or --kubeconfig",
                ) from e
            raise ClusterError(
                f"cannot load context {target.context} from kubeconfig {location}: {scrub(str(e))[:300]}",
                hint="check it with `kubectl config view --minify`, or set KUBECONFIG or --kubeconfig; "
                + LOCAL_CLUSTER_HINT,
            ) from e
        return _Session(transport=transport, where=target.where)
