"""The raw RESP client and the Redis store.

The protocol tests need nothing. The store tests run against a real
``redis-server`` when one is on PATH (started on a free loopback port, no
persistence) and are skipped otherwise.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from guestbook.app import Settings, build_store, make_server
from guestbook.resp import (
    RedisClient,
    RedisConnectionError,
    RedisProtocolError,
    RedisReplyError,
    encode_command,
    read_reply,
)
from guestbook.storage import RedisStore

REDIS_SERVER = shutil.which("redis-server")


def setUpModule() -> None:
    logging.getLogger("guestbook").setLevel(logging.ERROR)  # expected "not ready" warnings


def tearDownModule() -> None:
    logging.getLogger("guestbook").setLevel(logging.NOTSET)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TestProtocol(unittest.TestCase):
    def test_encode(self) -> None:
        self.assertEqual(encode_command("SET", "k", 1), b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n")
        self.assertEqual(encode_command("ECHO", "é"), b"*2\r\n$4\r\nECHO\r\n$2\r\n\xc3\xa9\r\n")
        with self.assertRaises(ValueError):
            encode_command()

    def test_read_every_reply_type(self) -> None:
        stream = io.BytesIO(
            b"+PONG\r\n"
            b":42\r\n"
            b"$5\r\nhe\r\no\r\n"  # bulk strings may contain CRLF
            b"$-1\r\n"
            b"*3\r\n$1\r\na\r\n:1\r\n-ERR nested\r\n"
            b"*-1\r\n"
            b"-WRONGTYPE Operation against a key\r\n"
        )
        self.assertEqual(read_reply(stream), "PONG")
        self.assertEqual(read_reply(stream), 42)
        self.assertEqual(read_reply(stream), b"he\r\no")
        self.assertIsNone(read_reply(stream))
        nested = read_reply(stream)
        assert isinstance(nested, list)
        self.assertEqual(nested[:2], [b"a", 1])
        self.assertIsInstance(nested[2], RedisReplyError)
        self.assertIsNone(read_reply(stream))
        error = read_reply(stream)
        self.assertIsInstance(error, RedisReplyError)
        self.assertIn("WRONGTYPE", str(error))

    def test_malformed_replies(self) -> None:
        for raw in (b"?what\r\n", b":notanumber\r\n", b"$3\r\nabcXY", b"+no terminator"):
            with self.subTest(raw=raw), self.assertRaises(RedisProtocolError):
                read_reply(io.BytesIO(raw))
        for raw in (b"", b"$10\r\nshort\r\n"):
            with self.subTest(raw=raw), self.assertRaises(RedisConnectionError):
                read_reply(io.BytesIO(raw))

    def test_unreachable_server(self) -> None:
        client = RedisClient("127.0.0.1", free_port(), timeout=0.5)
        with self.assertRaises(RedisConnectionError):
            client.ping()

    def test_password_not_in_repr(self) -> None:
        self.assertNotIn("hunter2", repr(RedisClient("redis", password="hunter2")))


@unittest.skipUnless(REDIS_SERVER, "redis-server is not installed")
class TestRealRedis(unittest.TestCase):
    password = "demo-redis-password"
    port: int
    workdir: tempfile.TemporaryDirectory[str]
    proc: subprocess.Popen[bytes]

    @classmethod
    def setUpClass(cls) -> None:
        cls.port = free_port()
        cls.workdir = tempfile.TemporaryDirectory()
        cls.proc = subprocess.Popen(
            [
                str(REDIS_SERVER),
                "--port",
                str(cls.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                cls.workdir.name,
                "--requirepass",
                cls.password,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or cls.proc.poll() is not None:
                    cls.tearDownClass()
                    raise unittest.SkipTest("redis-server did not start") from None
                time.sleep(0.05)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.proc.terminate()
        cls.proc.wait(timeout=10)
        cls.workdir.cleanup()

    def client(self) -> RedisClient:
        client = RedisClient("127.0.0.1", self.port, password=self.password, timeout=2)
        self.addCleanup(client.close)
        return client

    def test_commands_and_error_replies(self) -> None:
        client = self.client()
        self.assertTrue(client.ping())
        self.assertEqual(client.execute("SET", "guestbook:test", "v"), "OK")
        self.assertEqual(client.execute("GET", "guestbook:test"), b"v")
        self.assertIsNone(client.execute("GET", "guestbook:missing"))
        self.assertEqual(client.execute("INCR", "guestbook:counter"), 1)
        with self.assertRaises(RedisReplyError):
            client.execute("LPUSH", "guestbook:test", "x")  # WRONGTYPE
        self.assertTrue(client.ping(), "an error reply must leave the connection usable")

    def test_wrong_password(self) -> None:
        client = RedisClient("127.0.0.1", self.port, password="not-the-password", timeout=2)
        with self.assertRaises(RedisConnectionError) as caught:
            client.ping()
        self.assertNotIn("not-the-password", str(caught.exception))

    def test_reconnects_after_the_server_drops_the_connection(self) -> None:
        client = self.client()
        self.assertTrue(client.ping())
        admin = self.client()
        admin.execute("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
        self.assertTrue(client.ping())

    def test_store_keeps_the_newest_entries(self) -> None:
        store = RedisStore(self.client(), key="guestbook:test-store", max_entries=3)
        self.addCleanup(lambda: self.client().execute("DEL", "guestbook:test-store"))
        for i in range(5):
            store.add(f"n{i}", f"m{i}")
        self.assertEqual([e.message for e in store.list()], ["m4", "m3", "m2"])
        self.assertEqual([e.message for e in store.list(limit=1)], ["m4"])
        store.ping()

    def test_server_with_redis_storage(self) -> None:
        settings = Settings(
            host="127.0.0.1",
            port=0,
            secret_key="k",
            redis_host="127.0.0.1",
            redis_port=self.port,
            redis_password=self.password,
        )
        store = build_store(settings)
        self.addCleanup(store.close)
        self.assertEqual(store.kind, "redis")
        self.addCleanup(lambda: self.client().execute("DEL", "guestbook:entries"))
        server = make_server(settings, store)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        base = f"http://127.0.0.1:{server.server_address[1]}"

        with urllib.request.urlopen(base + "/readyz", timeout=5) as resp:
            self.assertEqual(json.loads(resp.read())["checks"]["redis"]["ok"], True)
        token = server.app.issue_token()
        req = urllib.request.Request(
            base + "/entries",
            data=json.dumps({"name": "R", "message": "stored in redis", "token": token}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            self.assertEqual(resp.status, 201)
        raw = self.client().execute("LRANGE", "guestbook:entries", 0, -1)
        assert isinstance(raw, list)
        assert isinstance(raw[0], bytes)
        self.assertEqual(json.loads(raw[0])["message"], "stored in redis")


class TestRedisReadiness(unittest.TestCase):
    def test_not_ready_when_redis_is_unreachable(self) -> None:
        settings = Settings(
            host="127.0.0.1", port=0, secret_key="k", redis_host="127.0.0.1", redis_port=free_port()
        )
        server = make_server(settings)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        url = f"http://127.0.0.1:{server.server_address[1]}/readyz"
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(url, timeout=5)
        with caught.exception as e:
            self.assertEqual(e.code, 503)
            self.assertFalse(json.loads(e.read())["checks"]["redis"]["ok"])


if __name__ == "__main__":
    unittest.main()
