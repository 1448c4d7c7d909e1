"""The HttpClient port: JSON over HTTP(S) for the git hosts' APIs (GitHub, GitLab).

Implemented by ``adapters.common.http.UrllibHttp`` (standard library only, so no
SDK is imported). Headers may carry tokens: implementations never log them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import msgspec


class HttpResponse(msgspec.Struct, frozen=True):
    status: int
    body: Any  # the parsed JSON document; None when the body was empty or not JSON


class HttpClient(Protocol):
    def get_json(self, *, url: str, headers: Mapping[str, str], timeout_seconds: float) -> HttpResponse:
        """GET ``url``; any HTTP status comes back as a response, a network failure raises OSError."""
        ...
