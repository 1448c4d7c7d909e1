"""A local double of Cloudflare's v4 API: zones and DNS records, enough for the official SDK.

No Cloudflare emulator exists; this keeps the parts DeployTag uses, with the
real API's shapes: the ``{"success", "errors", "messages", "result",
"result_info"}`` envelope, page/per_page pagination (``max_per_page`` forces
several pages), ``name`` / ``name.exact`` filters, and 401 on a wrong token.

``python -m tests.servers.cloudflare --dir D`` runs it standalone and writes
``D/cloudflare.json`` (base_url, zone_id, zone, token) for tools/example.sh.
"""

from __future__ import annotations

import argparse
import itertools
import json
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

PREFIX = "/client/v4"


@dataclass
class CloudflareDouble:
    token: str = "cf-test-token-0123456789"
    zone: str = "example.com"
    zone_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    max_per_page: int = 100
    delay: float = 0.0  # seconds every request waits: a provider that times out
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{PREFIX}"

    def start(self, port: int = 0) -> CloudflareDouble:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                double._handle(self, "GET")

            def do_POST(self) -> None:
                double._handle(self, "POST")

            def do_PUT(self) -> None:
                double._handle(self, "PUT")

            def do_PATCH(self) -> None:
                double._handle(self, "PATCH")

            def do_DELETE(self) -> None:
                double._handle(self, "DELETE")

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up (the timeout tests) is not the double's error

        self._server = Server(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reset(self) -> None:
        self.records.clear()
        self.requests.clear()
        self.delay, self.max_per_page = 0.0, 100

    def add(self, name: str, rtype: str, content: str, **extra: Any) -> dict[str, Any]:
        """Arrange a record as if someone else had created it."""
        rid = uuid.uuid4().hex
        record = {
            "id": rid,
            "zone_id": self.zone_id,
            "zone_name": self.zone,
            "name": name,
            "type": rtype,
            "content": content,
            "ttl": extra.get("ttl", 1),
            "proxied": extra.get("proxied", False),
            "proxiable": rtype in ("A", "AAAA", "CNAME"),
            "comment": extra.get("comment"),
            "tags": [],
            "created_on": "2026-01-01T00:00:00Z",
            "modified_on": "2026-01-01T00:00:00Z",
            "meta": {},
        }
        self.records[rid] = record
        return record

    # -- HTTP -------------------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        url = urlparse(h.path)
        self.requests.append(f"{method} {url.path}")
        if self.delay:
            time.sleep(self.delay)
        length = int(h.headers.get("Content-Length") or 0)
        body = json.loads(h.rfile.read(length) or b"{}") if length else {}
        if h.headers.get("Authorization") != f"Bearer {self.token}":
            return self._send(h, 401, errors=[{"code": 10000, "message": "Authentication error"}])
        parts = url.path.removeprefix(PREFIX).strip("/").split("/")
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if parts == ["user", "tokens", "verify"]:
            return self._send(h, 200, result={"id": "t", "status": "active"})
        if len(parts) < 2 or parts[0] != "zones" or parts[1] != self.zone_id:
            return self._send(h, 404, errors=[{"code": 7003, "message": "Could not route to zone"}])
        if len(parts) == 2 and method == "GET":
            return self._send(h, 200, result={"id": self.zone_id, "name": self.zone, "status": "active"})
        if parts[2:] == ["dns_records"] and method == "GET":
            return self._list(h, query)
        if parts[2:] == ["dns_records"] and method == "POST":
            return self._write(h, None, body)
        if len(parts) == 4 and parts[2] == "dns_records":
            rid = parts[3]
            if rid not in self.records:
                return self._send(h, 404, errors=[{"code": 81044, "message": "Record does not exist."}])
            if method == "DELETE":
                del self.records[rid]
                return self._send(h, 200, result={"id": rid})
            if method in ("PUT", "PATCH"):
                base = {} if method == "PUT" else dict(self.records[rid])
                return self._write(h, rid, {**base, **body})
            if method == "GET":
                return self._send(h, 200, result=self.records[rid])
        return self._send(h, 405, errors=[{"code": 10405, "message": f"{method} not supported here"}])

    def _list(self, h: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        found = sorted(self.records.values(), key=lambda r: (r["name"], r["type"], r["content"]))
        name = query.get("name.exact") or query.get("name")
        if name:
            found = [r for r in found if r["name"] == name.lower()]
        if "type" in query:
            found = [r for r in found if r["type"] == query["type"]]
        page = max(1, int(query.get("page", 1)))
        per_page = min(self.max_per_page, int(query.get("per_page", 100)))
        total_pages = max(1, -(-len(found) // per_page))
        chunk = found[(page - 1) * per_page : page * per_page]
        info = {
            "page": page,
            "per_page": per_page,
            "count": len(chunk),
            "total_count": len(found),
            "total_pages": total_pages,
        }
        self._send(h, 200, result=chunk, result_info=info)

    def _write(self, h: BaseHTTPRequestHandler, rid: str | None, body: dict[str, Any]) -> None:
        name, rtype, content = str(body.get("name", "")).lower(), body.get("type"), body.get("content")
        if not name or not rtype or content is None:
            return self._send(
                h, 400, errors=[{"code": 9000, "message": "name, type and content are required"}]
            )
        if not (name == self.zone or name.endswith("." + self.zone)):
            return self._send(h, 400, errors=[{"code": 9005, "message": "Content for record is invalid."}])
        same = [r for r in self.records.values() if r["name"] == name and r["id"] != rid]
        if (rtype == "CNAME" and same) or any(r["type"] == "CNAME" for r in same):
            return self._send(
                h, 400, errors=[{"code": 81053, "message": "A CNAME record with that host already exists."}]
            )
        record = self.add(
            name,
            rtype,
            content,
            ttl=body.get("ttl", 1),
            proxied=body.get("proxied", False),
            comment=body.get("comment"),
        )
        if rid is not None:
            del self.records[record["id"]]
            record["id"] = rid
            self.records[rid] = record
        return self._send(h, 200, result=record)

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        *,
        result: Any = None,
        errors: list[Any] | None = None,
        result_info: Any = None,
    ) -> None:
        payload: dict[str, Any] = {
            "success": status < 400,
            "errors": errors or [],
            "messages": [],
            "result": result,
        }
        if result_info is not None:
            payload["result_info"] = result_info
        data = json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cloudflare-double", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, type=Path, help="where to write cloudflare.json")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--zone", default="example.com")
    args = parser.parse_args(argv)
    double = CloudflareDouble(zone=args.zone).start(args.port)
    info = {
        "base_url": double.base_url,
        "zone_id": double.zone_id,
        "zone": double.zone,
        "token": double.token,
    }
    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.dir / "cloudflare.json"
    path.touch(mode=0o600)
    path.write_text(json.dumps(info))
    print(f"cloudflare double on {double.base_url} (zone {double.zone} id {double.zone_id})", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    double.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
