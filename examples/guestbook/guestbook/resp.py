"""A tiny Redis client speaking RESP2 over a plain socket: only what the guestbook needs.

No third-party package: commands are sent as RESP arrays of bulk strings and
replies are parsed from a buffered socket file. One connection is kept and
guarded by a lock, so the threaded HTTP server can share the client.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import BinaryIO

MAX_LINE = 64 * 1024  # longest status/length line accepted
MAX_BULK = 64 * 1024 * 1024  # largest bulk string accepted (the server allows 512 MiB; we never need that)


class RedisError(Exception):
    """Anything that went wrong talking to Redis."""


class RedisConnectionError(RedisError):
    """The server could not be reached or the connection broke."""


class RedisProtocolError(RedisConnectionError):
    """The bytes received are not valid RESP; the connection is dropped."""


class RedisReplyError(RedisError):
    """The server answered with an error reply (``-ERR ...``)."""


Reply = str | int | bytes | list["Reply"] | RedisReplyError | None


def encode_command(*args: str | bytes | int) -> bytes:
    """``SET k v`` -> ``*3\\r\\n$3\\r\\nSET\\r\\n$1\\r\\nk\\r\\n$1\\r\\nv\\r\\n``."""
    if not args:
        raise ValueError("a command needs at least its name")
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode("utf-8")
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _read_line(stream: BinaryIO) -> bytes:
    line = stream.readline(MAX_LINE)
    if not line:
        raise RedisConnectionError("connection closed by the server")
    if not line.endswith(b"\r\n"):
        raise RedisProtocolError("reply line is not terminated by CRLF (or is too long)")
    return line[:-2]


def _read_int(raw: bytes) -> int:
    try:
        return int(raw)
    except ValueError:
        raise RedisProtocolError(f"expected an integer, got {raw[:20]!r}") from None


def read_reply(stream: BinaryIO) -> Reply:
    """Read one complete reply. Error replies are returned (not raised) so nested ones survive."""
    line = _read_line(stream)
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode("utf-8", "replace")
    if kind == b"-":
        return RedisReplyError(rest.decode("utf-8", "replace"))
    if kind == b":":
        return _read_int(rest)
    if kind == b"$":
        length = _read_int(rest)
        if length == -1:
            return None
        if not 0 <= length <= MAX_BULK:
            raise RedisProtocolError(f"bulk string length {length} out of range")
        data = stream.read(length + 2)
        if len(data) != length + 2:
            raise RedisConnectionError("connection closed in the middle of a reply")
        if data[-2:] != b"\r\n":
            raise RedisProtocolError("bulk string is not terminated by CRLF")
        return data[:-2]
    if kind == b"*":
        count = _read_int(rest)
        if count == -1:
            return None
        if count < 0:
            raise RedisProtocolError(f"array length {count} out of range")
        return [read_reply(stream) for _ in range(count)]
    raise RedisProtocolError(f"unknown reply type {kind!r}")


class RedisClient:
    """One lazily opened connection; reconnects when it breaks.

    A command is retried once, and only when it failed on a connection that had
    already been used (typically closed by the server's idle timeout), so a
    fresh connection that fails reports the failure at once.
    """

    def __init__(
        self,
        host: str,
        port: int = 6379,
        *,
        password: str | None = None,
        db: int = 0,
        timeout: float = 2.0,
    ) -> None:
        self.host = host
        self.port = port
        self._password = password
        self._db = db
        self._timeout = timeout
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._file: BinaryIO | None = None

    def __repr__(self) -> str:  # never shows the password
        return f"RedisClient({self.host!r}, {self.port})"

    def execute(self, *args: str | bytes | int) -> Reply:
        """Send one command and return its reply; raise RedisReplyError for an error reply."""
        payload = encode_command(*args)
        with self._lock:
            reused = self._sock is not None
            try:
                reply = self._roundtrip(payload)
            except RedisConnectionError:
                self._close()
                if not reused:
                    raise
                reply = self._roundtrip(payload)
        if isinstance(reply, RedisReplyError):
            raise reply
        return reply

    def ping(self) -> bool:
        return self.execute("PING") == "PONG"

    def close(self) -> None:
        with self._lock:
            self._close()

    # ------------------------------------------------------------------ internals

    def _roundtrip(self, payload: bytes) -> Reply:
        try:
            sock, stream = self._connection()
            sock.sendall(payload)
            return read_reply(stream)
        except RedisConnectionError:
            self._close()
            raise
        except OSError as e:  # refused, reset, timed out, unreachable ...
            self._close()
            raise RedisConnectionError(f"redis {self.host}:{self.port}: {e.strerror or e}") from e

    def _connection(self) -> tuple[socket.socket, BinaryIO]:
        if self._sock is not None and self._file is not None:
            return self._sock, self._file
        sock = socket.create_connection((self.host, self.port), timeout=self._timeout)
        stream = sock.makefile("rb")
        self._sock, self._file = sock, stream
        if self._password:
            self._handshake(sock, stream, "AUTH", self._password)
        if self._db:
            self._handshake(sock, stream, "SELECT", self._db)
        return sock, stream

    def _handshake(self, sock: socket.socket, stream: BinaryIO, *args: str | int) -> None:
        sock.sendall(encode_command(*args))
        reply = read_reply(stream)
        if isinstance(reply, RedisReplyError):
            self._close()
            # The reply names the failure (e.g. WRONGPASS); the password itself is never echoed.
            raise RedisConnectionError(f"redis {args[0]} failed: {reply}")

    def _close(self) -> None:
        for closable in (self._file, self._sock):
            if closable is not None:
                with contextlib.suppress(OSError):
                    closable.close()
        self._sock = self._file = None
