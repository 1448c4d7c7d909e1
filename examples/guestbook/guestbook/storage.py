"""Where entries live: Redis when REDIS_HOST is set, else process memory.

Both stores keep the newest ``max_entries`` entries, newest first.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Protocol

from guestbook.resp import RedisClient


@dataclass(frozen=True)
class Entry:
    id: str
    name: str
    message: str
    created: str  # ISO 8601, UTC

    @classmethod
    def new(cls, name: str, message: str) -> Entry:
        now = datetime.now(UTC).replace(microsecond=0).isoformat()
        return cls(id=secrets.token_hex(8), name=name, message=message, created=now)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


class Store(Protocol):
    kind: str

    def add(self, name: str, message: str) -> Entry: ...

    def list(self, limit: int = 100) -> list[Entry]: ...

    def ping(self) -> None:
        """Raise if the store cannot be used right now."""
        ...

    def close(self) -> None: ...


class MemoryStore:
    """Entries in this process only: lost on restart, not shared between replicas."""

    kind = "memory"

    def __init__(self, max_entries: int = 500) -> None:
        self._entries: deque[Entry] = deque(maxlen=max_entries)
        self._lock = threading.Lock()

    def add(self, name: str, message: str) -> Entry:
        entry = Entry.new(name, message)
        with self._lock:
            self._entries.appendleft(entry)
        return entry

    def list(self, limit: int = 100) -> list[Entry]:
        with self._lock:
            return list(self._entries)[:limit]

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None


class RedisStore:
    """Entries as JSON strings in one Redis list (LPUSH + LTRIM keeps it bounded)."""

    kind = "redis"

    def __init__(
        self, client: RedisClient, *, key: str = "guestbook:entries", max_entries: int = 500
    ) -> None:
        self._client = client
        self._key = key
        self._max = max_entries

    def add(self, name: str, message: str) -> Entry:
        entry = Entry.new(name, message)
        self._client.execute("LPUSH", self._key, json.dumps(entry.to_dict(), ensure_ascii=False))
        self._client.execute("LTRIM", self._key, 0, self._max - 1)
        return entry

    def list(self, limit: int = 100) -> list[Entry]:
        raw = self._client.execute("LRANGE", self._key, 0, max(limit, 1) - 1)
        entries: list[Entry] = []
        for item in raw if isinstance(raw, list) else []:
            if not isinstance(item, bytes):
                continue
            try:
                data = json.loads(item)
                entries.append(
                    Entry(
                        id=str(data["id"]),
                        name=str(data["name"]),
                        message=str(data["message"]),
                        created=str(data["created"]),
                    )
                )
            except (ValueError, KeyError, TypeError):
                continue  # someone else's value under our key: skip it rather than fail the page
        return entries

    def ping(self) -> None:
        if not self._client.ping():
            raise ConnectionError("redis did not answer PONG")

    def close(self) -> None:
        self._client.close()
