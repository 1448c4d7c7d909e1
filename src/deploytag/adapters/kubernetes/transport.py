"""HTTP(S) requests to the API server over the standard library: ``http.client`` and ``ssl``.

The official client costs ~45 ms of imports per run (urllib3, its generated classes,
its config loader) before the first request; a DeployTag run needs a few dozen JSON
requests on one keep-alive connection. Connections are pooled (a handful kept idle)
and shared by threads (``gc --parallel`` destroys several environments at once).

Failures are this package's own exceptions (``errors.HttpStatus``, ``TlsFailed``,
``NoAnswer``, ``Unreachable``), worded by ``errors.translate`` exactly as the SDK's
were. As before, only a failed connect is retried (nothing was sent), three times; a
read that times out is not repeated: one hung API server must not cost minutes.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import ssl
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from deploytag import __version__
from deploytag.adapters.kubernetes.credentials import Auth, Credentials, static_auth
from deploytag.adapters.kubernetes.errors import (
    CredentialsFailed,
    HttpStatus,
    NoAnswer,
    TlsFailed,
    TransportError,
    Unreachable,
)
from deploytag.adapters.kubernetes.kubeconfig import Target

JSON = "application/json"
_CONNECT_RETRIES = 3
_BACKOFF = 0.2  # seconds, doubled per retry after the first (immediate) one, as urllib3 did
_MAX_IDLE = 8
# Methods whose repetition leaves the same state (the adapter's PATCHes are merge patches of
# fixed values), sent once more on a fresh connection when a kept-alive one turns out to have
# been closed by the server in between. A POST is not: it could create twice.
_REPEATABLE = frozenset({"GET", "PUT", "DELETE", "PATCH"})
Query = Mapping[str, str | int | bool | None]


class RestTransport:
    """Requests to one API server with one set of credentials."""

    def __init__(self, target: Target, *, timeout: tuple[float, float]) -> None:
        url = urlsplit(target.server)
        self._tls = url.scheme == "https"
        self._host = url.hostname or ""
        self._port = url.port or (443 if self._tls else 80)
        self._base = url.path.rstrip("/")  # Rancher-style servers live under a path
        self._server_name = target.tls_server_name or self._host
        self._timeout = timeout
        self._credentials = Credentials(target)
        self._target = target
        self._lock = threading.Lock()
        self._idle: list[tuple[int, http.client.HTTPConnection]] = []
        self._contexts: dict[int, ssl.SSLContext] = {}
        if self._tls:  # built now, so a bad CA or client certificate is a configuration error
            self._contexts[0] = tls_context(target, static_auth(target))

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: Any = None,
        content_type: str = JSON,
        accept: str = JSON,
    ) -> bytes:
        """The body of a 2xx answer; ``HttpStatus`` for any other status."""
        params = [(k, _param(v)) for k, v in (query or {}).items() if v is not None]
        url = self._base + path + (f"?{urlencode(params)}" if params else "")
        data = json.dumps(body).encode() if body is not None else None
        auth = self._credentials.current()
        try:
            return self._send(method, url, data, content_type, accept, auth)
        except HttpStatus as e:
            if e.status != 401 or not self._credentials.refreshable:
                raise
        # An exec credential the server refused (revoked, or expired early): run the plugin again.
        self._credentials.invalidate()
        return self._send(method, url, data, content_type, accept, self._credentials.current())

    def _send(
        self, method: str, url: str, data: bytes | None, content_type: str, accept: str, auth: Auth
    ) -> bytes:
        headers = {"Accept": accept, "User-Agent": f"deploytag/{__version__}"}
        if data is not None:
            headers["Content-Type"] = content_type
        if auth.authorization:
            headers["Authorization"] = auth.authorization
        for attempt in (1, 2):
            conn, reused = self._checkout(auth)
            try:
                conn.request(method, url, body=data, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except TimeoutError as e:
                conn.close()
                raise NoAnswer(str(e)) from e
            except ssl.SSLError as e:  # e.g. a client certificate refused after the handshake (TLS 1.3)
                conn.close()
                raise TlsFailed(str(e)) from e
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                if reused and attempt == 1 and method in _REPEATABLE:
                    continue  # the server closed the idle connection just as we used it
                raise Unreachable(f"connection broken: {e or type(e).__name__}") from e
            if response.will_close:
                conn.close()
            else:
                self._checkin(auth, conn)
            if not 200 <= response.status < 300:
                raise HttpStatus(response.status, response.reason, payload)
            return payload
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    # ------------------------------------------------------------------ the pool

    def _checkout(self, auth: Auth) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            while self._idle:
                generation, conn = self._idle.pop()
                if generation == auth.generation and not _dropped(conn):
                    return conn, True
                conn.close()
        return self._connect(auth), False

    def _checkin(self, auth: Auth, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < _MAX_IDLE:
                self._idle.append((auth.generation, conn))
                return
        conn.close()

    def _connect(self, auth: Auth) -> http.client.HTTPConnection:
        connect_timeout, read_timeout = self._timeout
        failure: TransportError = Unreachable("no attempt")
        for attempt in range(_CONNECT_RETRIES + 1):
            if attempt > 1:
                time.sleep(_BACKOFF * 2 ** (attempt - 1))
            conn: http.client.HTTPConnection
            if self._tls:
                conn = _TlsConnection(
                    self._host,
                    self._port,
                    timeout=connect_timeout,
                    context=self._context(auth),
                    server_name=self._server_name,
                )
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=connect_timeout)
            try:
                conn.connect()
            except ssl.SSLError as e:  # untrusted or misnamed server certificate: retrying cannot help
                conn.close()
                raise TlsFailed(str(e)) from e
            except TimeoutError as e:
                conn.close()
                failure = NoAnswer(str(e))
                continue
            except OSError as e:
                conn.close()
                failure = Unreachable(f"Failed to establish a new connection: {e}")
                continue
            assert conn.sock is not None
            conn.sock.settimeout(read_timeout)
            return conn
        raise failure

    def _context(self, auth: Auth) -> ssl.SSLContext:
        """The TLS context for ``auth``'s client certificate; a new one when an exec plugin gave a new one."""
        with self._lock:
            found = self._contexts.get(auth.generation)
            if found is None:
                try:
                    found = tls_context(self._target, auth)
                except (ssl.SSLError, OSError, ValueError) as e:
                    raise CredentialsFailed(
                        f"the exec plugin's client certificate or key cannot be used: {e}",
                        hint="check the clientCertificateData and clientKeyData (PEM) the plugin prints",
                    ) from e
                self._contexts = {0: self._contexts[0], auth.generation: found}  # older ones are done
            return found


class _TlsConnection(http.client.HTTPConnection):
    """HTTPS with the server name of our choosing (``tls-server-name``) for SNI and verification."""

    default_port = 443

    def __init__(
        self, host: str, port: int, *, timeout: float, context: ssl.SSLContext, server_name: str
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self._tls_context = context
        self._server_name = server_name

    def connect(self) -> None:
        super().connect()
        self.sock = self._tls_context.wrap_socket(self.sock, server_hostname=self._server_name)


def tls_context(target: Target, auth: Auth | None) -> ssl.SSLContext:
    """Trust the kubeconfig's CA (else the public CAs the SDK trusted), present the client certificate.

    ``ssl.SSLError``/``OSError`` for unusable certificates or keys.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if target.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif target.ca_pem or target.ca_file:
        context.load_verify_locations(cafile=target.ca_file or None, cadata=target.ca_pem or None)
    else:
        _public_cas(context)
    if auth is not None and auth.cert_file:
        context.load_cert_chain(auth.cert_file, auth.key_file)
    elif auth is not None and auth.cert_pem:
        _load_cert_chain(context, auth.cert_pem, auth.key_pem)
    return context


def _public_cas(context: ssl.SSLContext) -> None:
    """certifi's bundle, as the SDK (urllib3) used, else the system's."""
    try:
        import certifi
    except ImportError:
        context.load_default_certs()
    else:
        context.load_verify_locations(cafile=certifi.where())


def _load_cert_chain(context: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    """``ssl`` reads a certificate chain only from a file: an anonymous in-memory file where Linux has
    one, else a 0600 temporary file deleted at once. The key never lands anywhere else."""
    pem = cert_pem.rstrip(b"\n") + b"\n" + key_pem
    memfd = getattr(os, "memfd_create", None)
    if memfd is not None and os.path.isdir("/proc/self/fd"):
        fd = memfd("deploytag-client-cert", os.MFD_CLOEXEC)
        try:
            os.write(fd, pem)
            context.load_cert_chain(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
        return
    import tempfile

    fd, path = tempfile.mkstemp(prefix="deploytag-client-", suffix=".pem")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        context.load_cert_chain(path)
    finally:
        os.unlink(path)


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """An idle kept-alive connection the server closed (readable: EOF) is not worth a request."""
    if conn.sock is None:
        return True
    try:
        readable, _, _ = select.select([conn.sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _param(value: str | int | bool) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
