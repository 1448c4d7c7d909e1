"""The guestbook HTTP server: standard library only (http.server).

Routes
  GET  /          HTML page: the entries and a form to add one
  GET  /entries   JSON: {"entries": [...], "token": "<form token>"}
  POST /entries   add an entry (form-encoded or JSON: name, message, token)
  GET  /healthz   liveness: the process answers; checks nothing else
  GET  /readyz    readiness: Redis (if REDIS_HOST) and the database (if DATABASE_URL) are reachable

Configuration comes from environment variables only (see ``Settings.from_env``);
SECRET_KEY, DATABASE_URL and REDIS_PASSWORD arrive from the Kubernetes Secret
that DeployTag creates for the environment.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import logging
import os
import secrets
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from guestbook import __version__
from guestbook.checks import CheckResult, check_database, check_store
from guestbook.resp import RedisClient
from guestbook.storage import MemoryStore, RedisStore, Store

log = logging.getLogger("guestbook")

MAX_BODY = 16 * 1024  # bytes; an entry is small
MAX_DISCARD = 1024 * 1024  # bytes of an oversized body read and dropped before answering 413
MAX_NAME = 80
MAX_MESSAGE = 1000
TOKEN_TTL = 2 * 60 * 60  # seconds a form token stays valid
PROBE_PATHS = ("/healthz", "/readyz")


@dataclass(frozen=True)
class Settings:
    host: str = "0.0.0.0"  # noqa: S104 - in a container the pod IP must be reachable
    port: int = 8080
    redis_host: str | None = None
    redis_port: int = 6379
    redis_password: str | None = field(default=None, repr=False)
    database_url: str | None = field(default=None, repr=False)
    secret_key: str = field(default="", repr=False)
    max_entries: int = 500
    check_timeout: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def number(name: str, default: int) -> int:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                return int(raw)
            except ValueError:
                raise SystemExit(f"guestbook: {name} must be an integer, got {raw!r}") from None

        secret_key = env.get("SECRET_KEY", "")
        if not secret_key:
            log.warning(
                "SECRET_KEY is not set: using a random key, so form tokens do not survive a restart "
                "and are not accepted by other replicas"
            )
            secret_key = secrets.token_hex(32)
        return cls(
            host=env.get("HOST", "0.0.0.0"),  # noqa: S104
            port=number("PORT", 8080),
            redis_host=env.get("REDIS_HOST") or None,
            redis_port=number("REDIS_PORT", 6379),
            redis_password=env.get("REDIS_PASSWORD") or None,
            database_url=env.get("DATABASE_URL") or None,
            secret_key=secret_key,
            max_entries=number("MAX_ENTRIES", 500),
        )


def build_store(settings: Settings) -> Store:
    if settings.redis_host:
        client = RedisClient(settings.redis_host, settings.redis_port, password=settings.redis_password)
        return RedisStore(client, max_entries=settings.max_entries)
    return MemoryStore(max_entries=settings.max_entries)


class Guestbook:
    """Everything a request handler needs, shared by all handler threads."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.draining = False  # set on SIGTERM: readiness fails while the pod is removed from endpoints

    # Form tokens: "<issued unix time>.<hmac>". Any replica holding the same SECRET_KEY
    # accepts a token another one issued, which is why the key comes from the Secret.
    def issue_token(self, now: float | None = None) -> str:
        issued = str(int(time.time() if now is None else now))
        return f"{issued}.{self._sign(issued)}"

    def token_valid(self, token: str, now: float | None = None) -> bool:
        issued, _, signature = token.partition(".")
        if not issued.isdigit() or not hmac.compare_digest(signature, self._sign(issued)):
            return False
        age = (time.time() if now is None else now) - int(issued)
        return -60 <= age <= TOKEN_TTL

    def _sign(self, text: str) -> str:
        key = self.settings.secret_key.encode()
        return hmac.new(key, b"guestbook-form:" + text.encode(), hashlib.sha256).hexdigest()

    def readiness(self) -> list[CheckResult]:
        results: list[CheckResult] = []
        if self.draining:
            results.append(CheckResult("shutdown", False, "terminating"))
        results.append(check_store(self.store))
        if self.settings.database_url:
            results.append(check_database(self.settings.database_url, self.settings.check_timeout))
        return results


class GuestbookServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: Guestbook) -> None:
        self.app = app
        super().__init__(address, GuestbookHandler)


class GuestbookHandler(BaseHTTPRequestHandler):
    server: GuestbookServer
    server_version = f"guestbook/{__version__}"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds an idle or slow connection may hold a thread

    # ------------------------------------------------------------------ routing

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/":
            self._page()
        elif path == "/entries":
            app = self.server.app
            entries = [e.to_dict() for e in app.store.list()]
            self._json(HTTPStatus.OK, {"entries": entries, "token": app.issue_token()})
        elif path == "/healthz":
            self._text(HTTPStatus.OK, "ok\n")
        elif path == "/readyz":
            self._ready()
        else:
            self._text(HTTPStatus.NOT_FOUND, "not found\n")

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if path == "/entries":
            self._add_entry()
        elif path in ("/", *PROBE_PATHS):
            self._not_allowed("GET")
        else:
            self._text(HTTPStatus.NOT_FOUND, "not found\n")

    # ------------------------------------------------------------------ handlers

    def _page(self) -> None:
        app = self.server.app
        items = "\n".join(
            f"<li><strong>{html.escape(e.name)}</strong> <time>{html.escape(e.created)}</time>"
            f"<p>{html.escape(e.message)}</p></li>"
            for e in app.store.list()
        )
        body = PAGE.format(
            entries=items or '<li class="empty">No entries yet. Be the first!</li>',
            token=html.escape(app.issue_token()),
            max_name=MAX_NAME,
            max_message=MAX_MESSAGE,
            version=html.escape(__version__),
            storage=html.escape(app.store.kind),
        )
        self._send(HTTPStatus.OK, body.encode(), "text/html; charset=utf-8")

    def _add_entry(self) -> None:
        fields = self._read_fields()
        if fields is None:
            return
        app = self.server.app
        if not app.token_valid(fields.get("token", "")):
            self._error(HTTPStatus.FORBIDDEN, "missing or expired form token: reload the page")
            return
        name = " ".join(fields.get("name", "").split()) or "Anonymous"
        message = fields.get("message", "").strip()
        if not message:
            self._error(HTTPStatus.BAD_REQUEST, "message is required")
            return
        if len(name) > MAX_NAME or len(message) > MAX_MESSAGE:
            self._error(
                HTTPStatus.BAD_REQUEST, f"name is limited to {MAX_NAME}, message to {MAX_MESSAGE} characters"
            )
            return
        try:
            entry = app.store.add(name, message)
        except Exception:
            log.exception("could not store an entry")
            self._error(HTTPStatus.SERVICE_UNAVAILABLE, "storage is unavailable, try again")
            return
        if self._wants_json():
            self._json(HTTPStatus.CREATED, entry.to_dict())
        else:  # a browser form: show the page again (POST/redirect/GET)
            self._send(HTTPStatus.SEE_OTHER, b"", "text/plain; charset=utf-8", {"Location": "/"})

    def _ready(self) -> None:
        results = self.server.app.readiness()
        ready = all(r.ok for r in results)
        payload = {
            "status": "ready" if ready else "not ready",
            "checks": {r.name: {"ok": r.ok, "detail": r.detail} for r in results},
        }
        if not ready:
            log.warning("not ready: %s", "; ".join(f"{r.name}: {r.detail}" for r in results if not r.ok))
        self._json(HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE, payload)

    # ------------------------------------------------------------------ request body

    def _read_fields(self) -> dict[str, str] | None:
        """The posted fields, or None after an error response was sent."""
        raw_length = self.headers.get("Content-Length")
        if raw_length is None or not raw_length.isdigit():
            self._error(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
            return None
        length = int(raw_length)
        if length > MAX_BODY:
            # Read (a bounded part of) the body so the client sees our answer rather than a
            # reset; the connection closes so a remainder is never parsed as a request.
            self.rfile.read(min(length, MAX_DISCARD))
            self.close_connection = True
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body is limited to {MAX_BODY} bytes")
            return None
        body = self.rfile.read(length)
        ctype = self.headers.get_content_type()
        try:
            text = body.decode("utf-8")
            if ctype == "application/json":
                data: Any = json.loads(text or "{}")
                if not isinstance(data, dict):
                    raise ValueError("a JSON object is required")
                return {str(k): v for k, v in data.items() if isinstance(v, str)}
            if ctype == "application/x-www-form-urlencoded":
                return {k: v[0] for k, v in parse_qs(text, max_num_fields=20).items()}
        except ValueError as e:  # includes UnicodeDecodeError and json.JSONDecodeError
            self._error(HTTPStatus.BAD_REQUEST, f"cannot parse the body: {e.__class__.__name__}")
            return None
        self._error(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send application/x-www-form-urlencoded or application/json"
        )
        return None

    def _wants_json(self) -> bool:
        accept = self.headers.get("Accept", "")
        return "application/json" in accept or self.headers.get_content_type() == "application/json"

    # ------------------------------------------------------------------ responses

    def _not_allowed(self, allow: str) -> None:
        self._send(
            HTTPStatus.METHOD_NOT_ALLOWED,
            b"method not allowed\n",
            "text/plain; charset=utf-8",
            {"Allow": allow},
        )

    def _error(self, status: HTTPStatus, message: str) -> None:
        if self._wants_json():
            self._json(status, {"error": message})
        else:
            self._text(status, message + "\n")

    def _text(self, status: HTTPStatus, text: str) -> None:
        self._send(status, text.encode(), "text/plain; charset=utf-8")

    def _json(self, status: HTTPStatus, payload: Any) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode(), "application/json")

    def _send(
        self, status: HTTPStatus, body: bytes, content_type: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header(
            "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
        )
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # Probes hit every few seconds: keep them out of the normal log.
        level = logging.DEBUG if urlsplit(self.path).path in PROBE_PATHS else logging.INFO
        log.log(level, "%s %s", self.address_string(), format % args)


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Guestbook</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }}
li {{ margin-bottom: 1rem; }} time {{ color: #666; font-size: .8rem; }} p {{ margin: .2rem 0; }}
input, textarea {{ width: 100%; box-sizing: border-box; margin-bottom: .5rem; }}
footer {{ color: #666; font-size: .8rem; margin-top: 2rem; }}
</style>
</head>
<body>
<h1>Guestbook</h1>
<form method="post" action="/entries">
<input type="hidden" name="token" value="{token}">
<input name="name" placeholder="Your name" maxlength="{max_name}">
<textarea name="message" placeholder="Say hello" maxlength="{max_message}" required></textarea>
<button type="submit">Sign</button>
</form>
<ul id="entries">
{entries}
</ul>
<footer>guestbook {version}, storage: {storage}</footer>
</body>
</html>
"""


def make_server(settings: Settings, store: Store | None = None) -> GuestbookServer:
    """Bind the server (port 0 picks a free one); call serve_forever() to run it."""
    app = Guestbook(settings, store if store is not None else build_store(settings))
    return GuestbookServer((settings.host, settings.port), app)


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = Settings.from_env()
    server = make_server(settings)
    app = server.app
    log.info(
        "guestbook %s listening on %s:%d (storage: %s, database: %s)",
        __version__,
        settings.host,
        server.server_address[1],
        app.store.kind,
        "configured" if settings.database_url else "none",
    )

    def stop(signum: int, _frame: object) -> None:
        log.info("received %s: shutting down", signal.Signals(signum).name)
        app.draining = True
        # shutdown() waits for serve_forever() to return, so it must not run on the serving thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        app.store.close()
        log.info("stopped")
