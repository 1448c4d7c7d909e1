"""A small JSON-over-HTTPS client for the feedback providers, on the standard library.

The token travels only in a request header; it is never put in a URL, and error
messages carry the method, the path and a scrubbed, shortened body. Pagination
links are followed only to the API's own scheme and host, so a forged ``Link``
header cannot send the token elsewhere. A rate limit (429, or 403 with
Retry-After or an exhausted quota) or a gateway error is retried once, after
at most ``max_wait`` seconds; a longer wait is a failure, reported at once.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from deploytag.core.errors import scrub
from deploytag.ports.feedback import FeedbackError, FeedbackUnreachable

_GATEWAY = (502, 503, 504)
_ERROR_BODY = 200  # characters of a remote error body kept in a message


class Response(msgspec.Struct, frozen=True):
    status: int
    headers: Mapping[str, str]  # lowercase names
    data: Any


class JsonApi:
    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str],
        platform: str,
        secrets: tuple[str, ...],
        timeout: float,
        max_wait: float,
        sleep: Callable[[float], None],
        now: Callable[[], float],
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._origin = urllib.parse.urlsplit(self.base_url)[:2]
        self._headers = dict(headers)
        self._platform = platform
        self._secrets = secrets
        self._timeout = timeout
        self._max_wait = max_wait
        self._sleep = sleep
        self._now = now

    def __repr__(self) -> str:
        return f"JsonApi({self.base_url!r})"  # never the headers: they hold the token

    def url(self, path: str, query: Mapping[str, str | int] | None = None) -> str:
        q = f"?{urllib.parse.urlencode(query)}" if query else ""
        return f"{self.base_url}{path}{q}"

    def call(self, method: str, url: str, body: Mapping[str, Any] | None = None) -> Response:
        """One request, retried once on a rate limit or gateway error; FeedbackError otherwise."""
        if urllib.parse.urlsplit(url)[:2] != self._origin:
            raise FeedbackError(f"{self._platform} API pointed at another host: {self._show(url)}")
        for attempt in (1, 2):
            try:
                return self._once(method, url, body)
            except _Retry as retry:
                if attempt == 2 or retry.wait > self._max_wait:
                    gave_up = "" if attempt == 2 else f" (asked to wait {retry.wait:.0f} s)"
                    raise FeedbackError(retry.message + gave_up) from None
                self._sleep(retry.wait)
        raise AssertionError("unreachable")

    def _once(self, method: str, url: str, body: Mapping[str, Any] | None) -> Response:
        data = json.dumps(body).encode() if body is not None else None
        headers = {**self._headers, "Accept-Encoding": "identity"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        where = f"{method} {self._show(url)}"
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as resp:  # noqa: S310
                raw = resp.read()
                lower = {k.lower(): v for k, v in resp.headers.items()}
                return Response(resp.status, lower, json.loads(raw) if raw else None)
        except urllib.error.HTTPError as e:
            lower = {k.lower(): v for k, v in e.headers.items()} if e.headers else {}
            text = scrub(e.read().decode(errors="replace"), self._secrets)[:_ERROR_BODY]
            message = f"{self._platform} answered HTTP {e.code} for {where}: {' '.join(text.split())}"
            wait = self._rate_limit_wait(e.code, lower)
            if wait is not None:
                raise _Retry(message, wait) from None
            if e.code in _GATEWAY:
                raise _Retry(message, 1.0) from None
            raise FeedbackError(message) from None
        except (OSError, http.client.HTTPException) as e:  # URLError, timeouts, resets, bad status lines
            reason = getattr(e, "reason", e)
            message = f"{self._platform} API unreachable for {where}: {scrub(str(reason), self._secrets)}"
            raise FeedbackUnreachable(message) from None
        except json.JSONDecodeError:
            raise FeedbackError(f"{self._platform} answered {where} with a body that is not JSON") from None

    def _rate_limit_wait(self, status: int, headers: Mapping[str, str]) -> float | None:
        """Seconds to wait before the one retry of a rate-limited call, or None when it was not one."""
        if status not in (403, 429):
            return None
        after = headers.get("retry-after")
        if after is not None:
            return _seconds(after, self._now())
        reset = headers.get("x-ratelimit-reset")  # GitHub's primary limit: an epoch second
        if headers.get("x-ratelimit-remaining") == "0" and reset and reset.isdigit():
            return max(0.0, float(reset) - self._now())
        return 1.0 if status == 429 else None

    def _show(self, url: str) -> str:
        """The path and query only (the host is configuration), scrubbed like everything else."""
        parts = urllib.parse.urlsplit(url)
        return scrub(parts.path + (f"?{parts.query}" if parts.query else ""), self._secrets)


class _Retry(Exception):
    def __init__(self, message: str, wait: float) -> None:
        super().__init__(message)
        self.message = message
        self.wait = wait


def _seconds(value: str, now: float) -> float:
    """Retry-After as delta-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 1.0
    return max(0.0, when.timestamp() - now)


def next_link(headers: Mapping[str, str]) -> str | None:
    """The ``rel="next"`` URL of an RFC 8288 Link header (GitHub and GitLab both send one)."""
    for part in headers.get("link", "").split(","):
        target, _, params = part.partition(";")
        rels = {p.strip() for p in params.split(";")}
        if 'rel="next"' in rels or "rel=next" in rels:
            return target.strip().strip("<>")
    return None


def epoch(value: object) -> float | None:
    """An ISO 8601 time (``2019-05-15T15:20:33Z``) or epoch seconds as epoch seconds; None otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str) or not value:
        return None
    try:
        from datetime import datetime

        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
