"""HttpClient over urllib (standard library): the git hosts' JSON APIs.

Never logs headers (they carry tokens) and follows no redirect to another host
with them: urllib drops ``Authorization`` on a cross-host redirect.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping

from deploytag.ports.http import HttpResponse

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 5 * 1024 * 1024  # a page of pull requests is far smaller; a runaway body is cut


class UrllibHttp:
    def get_json(self, *, url: str, headers: Mapping[str, str], timeout_seconds: float) -> HttpResponse:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"not an HTTP URL: {url}")
        request = urllib.request.Request(url, headers=dict(headers), method="GET")  # noqa: S310 (scheme checked)
        log.debug("GET %s", url)
        try:
            with urllib.request.urlopen(request, timeout=timeout_seconds) as response:  # noqa: S310
                return HttpResponse(response.status, _json(response.read(MAX_BODY_BYTES)))
        except urllib.error.HTTPError as e:
            body = e.read(MAX_BODY_BYTES) if e.fp is not None else b""
            return HttpResponse(e.code, _json(body))


def _json(raw: bytes) -> object:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
