"""The HTTP server end to end: a real server on a free loopback port, in-memory storage."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from guestbook.app import MAX_BODY, Guestbook, Settings, make_server
from guestbook.storage import MemoryStore


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


OPENER = urllib.request.build_opener(_NoRedirect)
EXAMPLE = Path(__file__).resolve().parents[1]


def setUpModule() -> None:
    # "not ready" warnings are expected here; keep the test output readable.
    logging.getLogger("guestbook").setLevel(logging.ERROR)


def tearDownModule() -> None:
    logging.getLogger("guestbook").setLevel(logging.NOTSET)


class ServerTestCase(unittest.TestCase):
    settings = Settings(host="127.0.0.1", port=0, secret_key="test-key")

    def setUp(self) -> None:
        self.server = make_server(self.settings, MemoryStore())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.addCleanup(self._stop)

    def _stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with OPENER.open(req, timeout=5) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, dict(e.headers), e.read()

    def token(self) -> str:
        status, _, body = self.request("GET", "/entries")
        self.assertEqual(status, 200)
        return str(json.loads(body)["token"])

    def post_json(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status, _, body = self.request(
            "POST",
            "/entries",
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", "Accept": "application/json"},
        )
        return status, json.loads(body)


class TestProbes(ServerTestCase):
    def test_healthz(self) -> None:
        status, _, body = self.request("GET", "/healthz")
        self.assertEqual((status, body), (200, b"ok\n"))

    def test_readyz_with_memory_storage(self) -> None:
        status, headers, body = self.request("GET", "/readyz")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/json")
        payload = json.loads(body)
        self.assertEqual(payload["status"], "ready")
        self.assertEqual(payload["checks"], {"memory": {"ok": True, "detail": "ok"}})

    def test_readyz_fails_while_draining(self) -> None:
        app: Guestbook = self.server.app
        app.draining = True
        status, _, body = self.request("GET", "/readyz")
        self.assertEqual(status, 503)
        self.assertFalse(json.loads(body)["checks"]["shutdown"]["ok"])
        status, _, _ = self.request("GET", "/healthz")
        self.assertEqual(status, 200, "liveness must not fail because of a shutdown")


class TestDatabaseReadiness(ServerTestCase):
    def setUp(self) -> None:
        # A listening socket stands in for the database port: readiness only TCP-connects.
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(self.listener.close)
        port = self.listener.getsockname()[1]
        self.settings = Settings(
            host="127.0.0.1",
            port=0,
            secret_key="k",
            database_url=f"postgresql://app:s3cret-pw@127.0.0.1:{port}/guestbook",
        )
        super().setUp()

    def test_ready_when_the_database_port_answers(self) -> None:
        status, _, body = self.request("GET", "/readyz")
        self.assertEqual(status, 200, body)
        self.assertTrue(json.loads(body)["checks"]["database"]["ok"])

    def test_not_ready_when_it_does_not_and_the_password_is_not_shown(self) -> None:
        self.listener.close()
        status, _, body = self.request("GET", "/readyz")
        self.assertEqual(status, 503)
        self.assertFalse(json.loads(body)["checks"]["database"]["ok"])
        self.assertNotIn(b"s3cret-pw", body)


class TestEntries(ServerTestCase):
    def test_empty_page(self) -> None:
        status, headers, body = self.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        self.assertIn(b"No entries yet", body)
        self.assertIn(b"storage: memory", body)

    def test_form_post_redirects_and_the_entry_is_listed_escaped(self) -> None:
        form = urllib.parse.urlencode(
            {"name": "Ada", "message": "<script>alert(1)</script>", "token": self.token()}
        ).encode()
        status, headers, _ = self.request(
            "POST", "/entries", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        self.assertEqual(status, 303)
        self.assertEqual(headers["Location"], "/")
        _, _, page = self.request("GET", "/")
        self.assertIn(b"<strong>Ada</strong>", page)
        self.assertIn(b"&lt;script&gt;alert(1)&lt;/script&gt;", page)
        self.assertNotIn(b"<script>", page)

    def test_json_post_and_list_newest_first(self) -> None:
        token = self.token()
        for text in ("first", "second"):
            status, entry = self.post_json({"name": "Bob", "message": text, "token": token})
            self.assertEqual(status, 201)
            self.assertEqual((entry["name"], entry["message"]), ("Bob", text))
        status, _, body = self.request("GET", "/entries")
        self.assertEqual(status, 200)
        messages = [e["message"] for e in json.loads(body)["entries"]]
        self.assertEqual(messages, ["second", "first"])

    def test_blank_name_becomes_anonymous(self) -> None:
        status, entry = self.post_json({"name": "   ", "message": "hi", "token": self.token()})
        self.assertEqual((status, entry["name"]), (201, "Anonymous"))

    def test_token_is_required_and_checked(self) -> None:
        status, body = self.post_json({"name": "Eve", "message": "spam"})
        self.assertEqual(status, 403, body)
        status, _ = self.post_json({"message": "spam", "token": "1.forged"})
        self.assertEqual(status, 403)

    def test_a_token_from_another_replica_with_the_same_key_is_accepted(self) -> None:
        other = Guestbook(Settings(secret_key="test-key"), MemoryStore())
        stranger = Guestbook(Settings(secret_key="other-key"), MemoryStore())
        status, _ = self.post_json({"message": "hi", "token": other.issue_token()})
        self.assertEqual(status, 201)
        status, _ = self.post_json({"message": "hi", "token": stranger.issue_token()})
        self.assertEqual(status, 403)

    def test_expired_token_is_rejected(self) -> None:
        app: Guestbook = self.server.app
        old = app.issue_token(now=1_000_000)
        self.assertFalse(app.token_valid(old))
        self.assertTrue(app.token_valid(old, now=1_000_060))

    def test_validation(self) -> None:
        token = self.token()
        cases = [
            ({"message": "  ", "token": token}, 400),
            ({"message": "x" * 1001, "token": token}, 400),
            ({"name": "n" * 81, "message": "x", "token": token}, 400),
        ]
        for payload, expected in cases:
            with self.subTest(payload=str(payload)[:40]):
                status, body = self.post_json(payload)
                self.assertEqual(status, expected, body)
                self.assertIn("error", body)

    def test_bad_bodies(self) -> None:
        status, _, _ = self.request("POST", "/entries", b"{not json", {"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        status, _, _ = self.request("POST", "/entries", b"[1]", {"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        status, _, _ = self.request("POST", "/entries", b"message=hi", {"Content-Type": "text/plain"})
        self.assertEqual(status, 415)
        big = b"message=" + b"x" * MAX_BODY
        status, _, _ = self.request(
            "POST", "/entries", big, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        self.assertEqual(status, 413)

    def test_unknown_path_and_wrong_method(self) -> None:
        self.assertEqual(self.request("GET", "/nope")[0], 404)
        status, headers, _ = self.request("POST", "/healthz", b"")
        self.assertEqual((status, headers["Allow"]), (405, "GET"))

    def test_security_headers(self) -> None:
        _, headers, _ = self.request("GET", "/")
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
        self.assertIn("default-src 'none'", headers["Content-Security-Policy"])


class TestMain(unittest.TestCase):
    """``python -m guestbook`` as the container runs it: serves, then stops cleanly on SIGTERM."""

    def test_serves_and_stops_on_sigterm(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "SECRET_KEY": "k", "LOG_LEVEL": "INFO"}
        for name in ("REDIS_HOST", "DATABASE_URL"):
            env.pop(name, None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "guestbook"],
            cwd=EXAMPLE,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                        self.assertEqual(resp.status, 200)
                        break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        self.fail("the server did not come up")
                    time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.assertEqual(proc.returncode, 0, output)
        self.assertIn("listening on 127.0.0.1", output)
        self.assertIn("received SIGTERM", output)


class TestSettings(unittest.TestCase):
    def test_from_env(self) -> None:
        settings = Settings.from_env(
            {
                "PORT": "9000",
                "REDIS_HOST": "redis",
                "REDIS_PORT": "6380",
                "DATABASE_URL": "postgresql://u:p@db/app",
                "SECRET_KEY": "k",
            }
        )
        self.assertEqual((settings.port, settings.redis_host, settings.redis_port), (9000, "redis", 6380))
        self.assertEqual(settings.secret_key, "k")
        self.assertNotIn("postgresql://", repr(settings))
        self.assertNotIn("'k'", repr(settings))

    def test_defaults_and_a_random_secret_key(self) -> None:
        with self.assertLogs("guestbook", "WARNING"):
            settings = Settings.from_env({})
        self.assertEqual((settings.port, settings.redis_host, settings.database_url), (8080, None, None))
        self.assertEqual(len(settings.secret_key), 64)

    def test_bad_port(self) -> None:
        with self.assertRaises(SystemExit):
            Settings.from_env({"PORT": "eighty", "SECRET_KEY": "k"})


if __name__ == "__main__":
    unittest.main()
