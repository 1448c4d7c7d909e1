"""Turn the transport's (and the SDK fallback's) failures into DeployTag errors that say what to do.

Kept apart from the calls so every request maps failures the same way: 401/403
name the verb and resource to grant, 404 and 409 become types a method can catch
(``ApiNotFound``, ``ApiConflict``) and that still mean the right thing when it
does not, throttling, server errors and broken connections are retryable.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from deploytag.core.errors import ClusterError, DeployTagError, NotFoundError, RetryableClusterError, scrub

# Server messages are one line in practice; a long one is a proxy's HTML page.
_MAX_MESSAGE = 300
LOCAL_CLUSTER_HINT = "for a local cluster try kind/k3d"


@dataclass(frozen=True)
class Op:
    """What a request does, in the words of ``kubectl auth can-i``."""

    verb: str  # get, list, create, update, patch, delete
    resource: str  # plural: namespaces, secrets, leases, ...
    name: str = ""
    namespace: str = ""
    group: str = ""  # API group, for RBAC hints: "", "apps", "coordination.k8s.io"
    secrets: Sequence[str] = ()  # values that must never appear in a message

    def what(self) -> str:
        target = f"{self.resource}/{self.name}" if self.name else self.resource
        return f"{target} in namespace {self.namespace}" if self.namespace else target

    def can_i(self) -> str:
        resource = f"{self.resource}.{self.group}" if self.group else self.resource
        where = f" -n {self.namespace}" if self.namespace else ""
        return f"kubectl auth can-i {self.verb} {resource}{where}"


# ------------------------------------------------------------------ the direct transport's failures


class TransportError(Exception):
    """A request of the direct transport (``transport``) that failed; ``translate`` words it."""


class HttpStatus(TransportError):
    """The API server answered with a status outside 2xx (the SDK's ApiException, same fields)."""

    def __init__(self, status: int, reason: str, body: bytes) -> None:
        super().__init__(f"HTTP {status} {reason}")
        self.status, self.reason, self.body = status, reason, body


class TlsFailed(TransportError):
    """The TLS handshake failed: certificate not trusted, wrong name, client certificate refused."""


class NoAnswer(TransportError):
    """A connect or read timed out (connects are retried first; reads never are)."""


class Unreachable(TransportError):
    """Nothing accepted the connection, or it broke before the answer was read."""


class CredentialsFailed(TransportError):
    """An exec plugin or token file could not give credentials."""

    def __init__(self, message: str, *, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


class ApiNotFound(NotFoundError):
    """404 from the API server; methods for which absence is normal catch it."""


class ApiConflict(RetryableClusterError):
    """409: already exists, or changed since read (resourceVersion); retrying re-reads."""


def translate(error: BaseException, *, op: Op, where: str) -> DeployTagError | None:
    """The DeployTag error for a transport (or SDK) failure, or None when it is not one."""
    if isinstance(error, HttpStatus):
        return _from_status(error, op=op, where=where)
    if isinstance(error, TlsFailed):
        return _tls_failed(str(error), op=op, where=where)
    if isinstance(error, NoAnswer):
        return _no_answer(op=op, where=where)
    if isinstance(error, Unreachable):
        return _unreachable(str(error), op=op, where=where)
    if isinstance(error, CredentialsFailed):
        return ClusterError(
            f"cannot get credentials for {where} to {op.verb} {op.what()}: {_short(str(error), op)}",
            hint=error.hint,
        )
    return _translate_sdk(error, op=op, where=where)


def _translate_sdk(error: BaseException, *, op: Op, where: str) -> DeployTagError | None:
    """The same for the official client's failures (the SDK fallback, see ``sdkfallback``).

    Its modules are looked up, never imported: an error cannot come from a module not loaded.
    """
    sdk = sys.modules.get("kubernetes.client.exceptions")
    if sdk is not None and isinstance(error, sdk.ApiException):
        return _from_status(error, op=op, where=where)
    u3 = sys.modules.get("urllib3.exceptions")
    if u3 is None:
        return None
    if isinstance(error, u3.MaxRetryError) and error.reason is not None:
        error = error.reason
    if isinstance(error, u3.SSLError):
        return _tls_failed(str(error), op=op, where=where)
    # NewConnectionError subclasses ConnectTimeoutError in urllib3, so it is tested first.
    if isinstance(error, u3.TimeoutError) and not isinstance(error, u3.NewConnectionError):
        return _no_answer(op=op, where=where)
    if isinstance(error, u3.HTTPError | ConnectionError):
        return _unreachable(str(error), op=op, where=where)
    return None


def _tls_failed(text: str, *, op: Op, where: str) -> DeployTagError:
    return ClusterError(
        f"TLS failed talking to {where} to {op.verb} {op.what()}: {_short(text, op)}",
        hint="check the server URL and certificate-authority data of the kubeconfig context",
    )


def _no_answer(*, op: Op, where: str) -> DeployTagError:
    return RetryableClusterError(
        f"{where} did not answer in time to {op.verb} {op.what()}",
        hint="the API server is slow or unreachable; retry, and check the network if it persists",
    )


def _unreachable(text: str, *, op: Op, where: str) -> DeployTagError:
    return RetryableClusterError(
        f"cannot reach {where} to {op.verb} {op.what()}: {_short(text, op)}",
        hint="check that the cluster is running and reachable from here and that the kubeconfig "
        f"context is the right one (--context); {LOCAL_CLUSTER_HINT}",
    )


def _from_status(error: Any, *, op: Op, where: str) -> DeployTagError:
    status = int(error.status or 0)
    message = _server_message(error, op)
    if status == 0:
        # The SDK reports TLS failures as status 0 with the exception text as reason.
        return ClusterError(
            f"cannot talk to {where} to {op.verb} {op.what()}: {message}",
            hint="check the server URL and certificate-authority data of the kubeconfig context",
        )
    if status == 401:
        return ClusterError(
            f"{where} did not accept our credentials to {op.verb} {op.what()}",
            hint="the kubeconfig credentials are missing or expired: log in again (refresh the token or "
            "re-run your provider's get-credentials) or choose another --context",
        )
    if status == 403 and _terminating(error):
        return RetryableClusterError(
            f"cannot {op.verb} {op.what()}: the namespace is being deleted",
            hint="wait until it is gone (deploytag destroy waits), then run again",
        )
    if status == 403:
        return ClusterError(
            f"{where} forbids {op.verb} {op.what()}: {message}",
            hint=f"grant the kubeconfig identity RBAC to {op.verb} {op.resource} (check with: "
            f"{op.can_i()}) or use a --kubeconfig/--context that has it",
        )
    if status == 404:
        return ApiNotFound(
            f"{op.what()} not found on {where}: {message}",
            hint="check the name and namespace; `deploytag deploy` creates what is missing",
        )
    if status == 409:
        return ApiConflict(
            f"conflict on {op.verb} {op.what()}: {message}",
            hint="another client changed it at the same time; run again",
        )
    if status == 429:
        return RetryableClusterError(
            f"{where} is throttling requests ({op.verb} {op.what()})",
            hint="retry in a moment; many parallel runs share the API server's rate limit",
        )
    if status >= 500:
        return RetryableClusterError(
            f"{where} failed to {op.verb} {op.what()} (HTTP {status}): {message}",
            hint="retry; if it persists check the control plane's health and admission webhooks",
        )
    return ClusterError(
        f"{where} refused to {op.verb} {op.what()} (HTTP {status}): {message}",
        hint="check the names and values given to DeployTag; an admission policy may also have refused it",
    )


def _terminating(error: Any) -> bool:
    """A 403 that is not about RBAC: the namespace refuses new objects while it is deleted."""
    body = error.body.decode("utf-8", "replace") if isinstance(error.body, bytes) else str(error.body or "")
    return "NamespaceTerminating" in body or "because it is being terminated" in body


def _server_message(error: Any, op: Op) -> str:
    """The Status object's ``message``, else the start of the body, else the HTTP reason."""
    body = error.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    text = ""
    if body:
        try:
            parsed = json.loads(body)
        except ValueError:
            text = str(body)
        else:
            text = str(parsed.get("message") or body) if isinstance(parsed, dict) else str(body)
    return _short(text or str(error.reason or ""), op)


def _short(text: str, op: Op) -> str:
    text = " ".join(scrub(text, op.secrets).split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"
