"""The HTTP side of the fake: routing, content types, watch streams, and :class:`FakeKube`."""

from __future__ import annotations

import datetime as dt
import json
import os
import select
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from . import openapi, protobuf, resources
from .controllers import NODE_IP, NODE_NAME, Controllers, FailureRule
from .errors import ApiError
from .jobprocess import JobProcesses
from .resources import ResourceType
from .selectors import parse_field_selector, parse_label_selector
from .store import Obj, Store, WatchEvent, now_rfc3339

TOKEN = "fakekube-token"
KUBE_VERSION = "v1.34.1"


@dataclass
class RequestRecord:
    """One request the fake answered (for tests that check what a client sent)."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    content_type: str = ""
    accept: str = ""
    user_agent: str = ""
    body: Any = None  # parsed JSON/YAML of a write, else None
    started: float = field(default_factory=time.time)

    @property
    def is_watch(self) -> bool:
        return self.query.get("watch") in ("1", "true", "True") or "/watch/" in self.path

    def __str__(self) -> str:
        query = urllib.parse.urlencode(self.query)
        return f"{self.method} {self.path}{'?' + query if query else ''} -> {self.status}"


_PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+cbor": "apply-cbor",
}


def _truthy(value: str | None) -> bool:
    return value in ("1", "true", "True")


def _age(timestamp: str | None) -> str:
    if not timestamp:
        return "<unknown>"
    created = dt.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    seconds = int((dt.datetime.now(dt.UTC) - created).total_seconds())
    if seconds < 120:
        return f"{max(seconds, 0)}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    # set by _handle for each request, before anything reads them
    _record: RequestRecord
    _status: int

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without this, Nagle + delayed ACK cost 40 ms each
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # quiet: the request log is the record
    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing -------------------------------------------------------------------------------

    @property
    def fake(self) -> FakeKube:
        return self.server.fake

    def _query(self) -> tuple[str, dict[str, str]]:
        parsed = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items()}
        return parsed.path.rstrip("/") or "/", query

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            return self.rfile.read(length)
        if "chunked" in (self.headers.get("Transfer-Encoding") or ""):
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return b""

    def _send(self, code: int, payload: Any, content_type: str = "application/json") -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        # Logged before the client can read the answer, so a test that asserts on the log
        # right after its call returns never races the server thread.
        self._status = self._record.status = code
        self._log_record()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", f"{time.time_ns():x}")
        self.end_headers()
        self.wfile.write(data)
        self._status = code

    def _send_error(self, err: ApiError) -> None:
        try:
            self._send(err.code, err.status())
        except OSError:
            self.close_connection = True

    def _handle(self, method: str) -> None:
        self._status = 0
        path, query = self._query()
        self._record = RequestRecord(
            method=method,
            path=path,
            query=dict(query),
            status=0,
            content_type=self.headers.get("Content-Type") or "",
            accept=self.headers.get("Accept") or "",
            user_agent=self.headers.get("User-Agent") or "",
        )
        self._logged = False
        try:
            raw = self._read_body() if method in ("POST", "PUT", "PATCH", "DELETE") else b""
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if raw:
                self._record.body = self._parse_body(raw, content_type)
            self._authorize()
            if self.fake.latency:
                time.sleep(self.fake.latency)
            self._route(method, path, query, self._record.body, content_type)
        except ApiError as err:
            self._send_error(err)
        except OSError:  # the client went away (broken pipe, reset, TLS EOF)
            self.close_connection = True
        except Exception as exc:  # a bug in the fake: say so, loudly, as a 500
            import traceback

            traceback.print_exc()
            self._send_error(ApiError(500, "InternalError", f"fakekube internal error: {exc!r}"))
        finally:
            self._record.status = self._status
            self._log_record()

    def _log_record(self) -> None:
        """Add this request to the log once (a watch is logged when its stream starts)."""
        if not self._logged:
            self._logged = True
            with self.fake._log_lock:
                self.fake.request_log.append(self._record)

    def _parse_body(self, raw: bytes, content_type: str) -> Any:
        if content_type == "application/vnd.kubernetes.protobuf":
            return protobuf.decode(raw)
        if content_type.endswith("protobuf") or content_type.endswith("cbor"):
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format ({content_type}): fakekube speaks JSON only",
            )
        try:
            if content_type in ("application/apply-patch+yaml", "application/yaml"):
                return yaml.safe_load(raw.decode())
            return json.loads(raw)
        except (ValueError, yaml.YAMLError) as exc:
            raise ApiError.bad_request(f"the body of the request could not be decoded: {exc}") from exc

    def _authorize(self) -> None:
        if self.fake.token is None:
            return
        header = self.headers.get("Authorization")
        if header is None and not self.fake.tls:
            return  # client-go sends no credentials to an http:// server; the Python client does
        if header != f"Bearer {self.fake.token}":
            raise ApiError(401, "Unauthorized", "Unauthorized")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # -- routing --------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, str], body: Any, content_type: str) -> None:
        accept = self.headers.get("Accept") or ""
        if method == "GET":
            if path in ("/healthz", "/livez", "/readyz"):
                self._send(200, b"ok", "text/plain; charset=utf-8")
                return
            if path == "/version":
                self._send(200, self.fake.version_info())
                return
            if path == "/api":
                if self.fake.aggregated_discovery and "apidiscovery.k8s.io" in accept:
                    self._send(200, resources.aggregated_discovery(core=True), resources.AGGREGATED_MEDIA)
                else:
                    self._send(200, resources.api_versions(self.fake.address))
                return
            if path == "/apis":
                if self.fake.aggregated_discovery and "apidiscovery.k8s.io" in accept:
                    self._send(200, resources.aggregated_discovery(core=False), resources.AGGREGATED_MEDIA)
                else:
                    self._send(200, resources.api_group_list())
                return
            if path == "/openapi/v3":
                self._send(200, openapi.root_doc(self.fake.kube_version))
                return
            if path.startswith("/openapi/v3/"):
                rest = path[len("/openapi/v3/") :].split("/")
                if rest[0] == "api" and len(rest) == 2:
                    doc = openapi.group_version_doc("", rest[1], self.fake.kube_version)
                elif rest[0] == "apis" and len(rest) == 3:
                    doc = openapi.group_version_doc(rest[1], rest[2], self.fake.kube_version)
                else:
                    doc = None
                if doc is None:
                    raise ApiError(404, "NotFound", "the server could not find the requested resource")
                self._send(200, doc)
                return
            if path.startswith("/openapi/"):
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        if parts[0] == "api" and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 2:
            if len(parts) == 2:
                if method != "GET" or (doc := resources.api_group(parts[1])) is None:
                    raise ApiError(404, "NotFound", "the server could not find the requested resource")
                self._send(200, doc)
                return
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            doc = resources.api_resource_list(group, version)
            if method != "GET" or doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            self._send(200, doc)
            return
        watch = False
        if rest[0] == "watch":
            watch, rest = True, rest[1:]
        rtype, ns, name, sub = self._resolve(group, version, rest)
        if watch or (method == "GET" and _truthy(query.get("watch"))):
            if method != "GET":
                raise ApiError.method_not_allowed(method)
            if name:
                field_sel = query.get("fieldSelector")
                query["fieldSelector"] = f"metadata.name={name}" + (f",{field_sel}" if field_sel else "")
            self._watch(rtype, ns, query)
            return
        self._resource(method, rtype, ns, name, sub, query, body, content_type, accept)

    def _resolve(self, group: str, version: str, rest: list[str]) -> tuple[ResourceType, str, str, str]:
        def find(resource: str) -> ResourceType:
            found = resources.lookup(group, version, resource)
            if found is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return found

        if (
            rest[0] == "namespaces"
            and len(rest) >= 3
            and resources.lookup(group, version, rest[2]) is not None
        ):
            rtype = find(rest[2])
            if not rtype.namespaced:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            ns = rest[1]
            name = rest[3] if len(rest) > 3 else ""
            sub = "/".join(rest[4:])
        else:
            rtype = find(rest[0])
            ns = ""
            name = rest[1] if len(rest) > 1 else ""
            sub = "/".join(rest[2:])
            if rtype.namespaced and name:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if sub and sub not in rtype.subresources:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return rtype, ns, name, sub

    def _resource(
        self,
        method: str,
        rtype: ResourceType,
        ns: str,
        name: str,
        sub: str,
        query: dict[str, str],
        body: Any,
        content_type: str,
        accept: str,
    ) -> None:
        store = self.fake.store
        dry_run = query.get("dryRun") == "All"
        if sub == "log":
            if method != "GET":
                raise ApiError.method_not_allowed(method)
            pod = store.api_get(rtype, ns, name)
            tail = query.get("tailLines")
            text = self.fake.controllers.pod_log(
                pod, query.get("container"), int(tail) if tail else None, _truthy(query.get("previous"))
            )
            self._send(200, text.encode(), "text/plain")
            return
        if sub == "scale":
            self._scale(method, rtype, ns, name, query, body)
            return
        if sub == "finalize":
            if method != "PUT":
                raise ApiError.method_not_allowed(method)
            current = store.api_get(rtype, ns, name)
            current["spec"] = (body or {}).get("spec") or {}
            with store.lock:
                stored = store.write(store._from_view(rtype, current))
                store._drain()
                self._send(200, store.view(rtype, stored))
            return
        if method == "GET":
            if name:
                self._send_obj(200, store.api_get(rtype, ns, name), accept, rtype, query)
            else:
                listing = store.api_list(
                    rtype,
                    ns or None,
                    label_selector=query.get("labelSelector"),
                    field_selector=query.get("fieldSelector"),
                    limit=int(query.get("limit") or 0),
                    continue_token=query.get("continue"),
                )
                self._send_obj(200, listing, accept, rtype, query)
        elif method == "POST":
            if name:
                raise ApiError.method_not_allowed(method)
            created = store.api_create(rtype, ns, body, dry_run=dry_run)
            self._send(201, created)
        elif method == "PUT":
            if not name:
                raise ApiError.method_not_allowed(method)
            self._send(200, store.api_update(rtype, ns, name, body, subresource=sub, dry_run=dry_run))
        elif method == "PATCH":
            if not name:
                raise ApiError.method_not_allowed(method)
            patch_type = _PATCH_TYPES.get(content_type)
            if patch_type is None or patch_type == "apply-cbor":
                raise ApiError(
                    415,
                    "UnsupportedMediaType",
                    f"the body of the request was in an unknown format - accepted media types include: "
                    f"{', '.join(k for k in _PATCH_TYPES if not k.endswith('cbor'))}",
                )
            patched, was_created = store.api_patch(
                rtype,
                ns,
                name,
                patch_type,
                body,
                subresource=sub,
                dry_run=dry_run,
                field_manager=query.get("fieldManager", ""),
                force=_truthy(query.get("force")),
            )
            self._send(201 if was_created else 200, patched)
        elif method == "DELETE":
            options = body if isinstance(body, dict) else {}
            if "propagationPolicy" in query:
                options["propagationPolicy"] = query["propagationPolicy"]
            if not name:
                self._send(
                    200,
                    store.api_delete_collection(
                        rtype,
                        ns or None,
                        label_selector=query.get("labelSelector"),
                        field_selector=query.get("fieldSelector"),
                        options=options,
                        dry_run=dry_run,
                    ),
                )
                return
            answer, _ = store.api_delete(rtype, ns, name, options, dry_run=dry_run)
            self._send(200, answer)
        else:
            raise ApiError.method_not_allowed(method)

    def _scale(
        self, method: str, rtype: ResourceType, ns: str, name: str, query: dict[str, str], body: Any
    ) -> None:
        store = self.fake.store
        obj = store.api_get(rtype, ns, name)
        from .selectors import label_selector_string

        def scale_of(o: Obj) -> Obj:
            return {
                "kind": "Scale",
                "apiVersion": "autoscaling/v1",
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "uid": o["metadata"]["uid"],
                    "resourceVersion": o["metadata"]["resourceVersion"],
                    "creationTimestamp": o["metadata"]["creationTimestamp"],
                },
                "spec": {"replicas": o["spec"].get("replicas", 1)},
                "status": {
                    "replicas": (o.get("status") or {}).get("replicas", 0),
                    "selector": label_selector_string(o["spec"].get("selector")),
                },
            }

        if method == "GET":
            self._send(200, scale_of(obj))
            return
        if method == "PUT":
            replicas = ((body or {}).get("spec") or {}).get("replicas")
        elif method == "PATCH":
            from . import patches

            content_type = (self.headers.get("Content-Type") or "").split(";")[0]
            current = scale_of(obj)
            kind = _PATCH_TYPES.get(content_type)
            if kind == "json":
                replicas = patches.json_patch(current, body)["spec"].get("replicas")
            else:
                replicas = patches.json_merge_patch(current, body)["spec"].get("replicas")
        else:
            raise ApiError.method_not_allowed(method)
        if not isinstance(replicas, int):
            raise ApiError.bad_request("spec.replicas must be an integer")
        obj["spec"]["replicas"] = replicas
        updated = store.api_update(rtype, ns, name, obj, check_rv=False)
        self._send(200, scale_of(updated))

    # -- representations ------------------------------------------------------------------------

    def _send_obj(self, code: int, obj: Obj, accept: str, rtype: ResourceType, query: dict[str, str]) -> None:
        if "as=Table" in accept:
            self._send(code, self._table(obj, rtype, query), "application/json;as=Table;v=v1;g=meta.k8s.io")
            return
        if "as=PartialObjectMetadata" in accept:
            if "items" in obj:
                out = {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": obj["metadata"],
                    "items": [
                        {
                            "kind": "PartialObjectMetadata",
                            "apiVersion": "meta.k8s.io/v1",
                            "metadata": i["metadata"],
                        }
                        for i in obj["items"]
                    ],
                }
            else:
                out = {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": obj["metadata"],
                }
            self._send(code, out, "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io")
            return
        self._send(code, obj)

    @staticmethod
    def _table(obj: Obj, rtype: ResourceType, query: dict[str, str]) -> Obj:
        items = obj.get("items", [obj])
        include = query.get("includeObject", "Metadata")
        columns = [
            {"name": "Name", "type": "string", "format": "name", "description": "Name", "priority": 0},
            {"name": "Status", "type": "string", "format": "", "description": "Status", "priority": 0},
            {"name": "Age", "type": "string", "format": "", "description": "Age", "priority": 0},
        ]
        rows = []
        for item in items:
            status = item.get("status") if isinstance(item.get("status"), dict) else {}
            summary = status.get("phase") or ""
            if (not summary and "readyReplicas" in status) or "replicas" in status:
                summary = f"{status.get('readyReplicas', 0)}/{(item.get('spec') or {}).get('replicas', 0)}"
            row: Obj = {
                "cells": [item["metadata"]["name"], summary, _age(item["metadata"].get("creationTimestamp"))]
            }
            if include == "Object":
                full = dict(item)
                full.setdefault("apiVersion", rtype.api_version)
                full.setdefault("kind", rtype.kind)
                row["object"] = full
            elif include != "None":
                row["object"] = {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": item["metadata"],
                }
            rows.append(row)
        meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
        if obj["metadata"].get("continue"):
            meta["continue"] = obj["metadata"]["continue"]
        return {
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": meta,
            "columnDefinitions": columns,
            "rows": rows,
        }

    # -- watch ----------------------------------------------------------------------------------

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _client_gone(self) -> bool:
        """Whether the client hung up (it sends nothing while it reads a watch)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            if isinstance(self.connection, ssl.SSLSocket):
                return True  # readable means close_notify or EOF: no other bytes come mid-watch
            return bool(self.connection.recv(1, socket.MSG_PEEK) == b"")
        except (OSError, ValueError):
            return True

    def _watch(self, rtype: ResourceType, ns: str, query: dict[str, str]) -> None:
        store = self.fake.store
        labels = parse_label_selector(query.get("labelSelector"))
        fields = parse_field_selector(query.get("fieldSelector"), (rtype.group, rtype.resource))
        rv_param = query.get("resourceVersion", "")
        send_initial = _truthy(query.get("sendInitialEvents"))
        timeout = float(query.get("timeoutSeconds") or 1800)
        deadline = time.monotonic() + timeout

        def matches(view: Obj) -> bool:
            if ns and rtype.namespaced and view["metadata"].get("namespace") != ns:
                return False
            return labels(view["metadata"].get("labels") or {}) and fields(view)

        with store.lock:
            initial: list[Obj] = []
            if send_initial or rv_param in ("", "0"):
                initial = store._select(
                    rtype, ns or None, query.get("labelSelector"), query.get("fieldSelector")
                )
                last = store.resource_version
            else:
                try:
                    last = int(rv_param)
                except ValueError as exc:
                    raise ApiError.bad_request(f"invalid resource version {rv_param!r}") from exc
                if store.log_truncated and last < store.oldest_rv() - 1:
                    expired = ApiError.gone(f"too old resource version: {last} ({store.oldest_rv() - 1})")
                    self._start_stream()
                    self._write_chunk(
                        json.dumps({"type": "ERROR", "object": expired.status()}).encode() + b"\n"
                    )
                    self._end_stream()
                    return
        self._start_stream()
        try:
            for obj in initial:
                self._write_chunk(json.dumps({"type": "ADDED", "object": obj}).encode() + b"\n")
            if send_initial:
                self._write_chunk(json.dumps(self._bookmark(rtype, last, initial_end=True)).encode() + b"\n")
            while not self.fake.stopping.is_set() and time.monotonic() < deadline:
                with store.changed:
                    events, newest = store.events_after(last, rtype.store_key)
                    if not events:
                        store.changed.wait(timeout=min(0.5, max(0.0, deadline - time.monotonic())))
                        events, newest = store.events_after(last, rtype.store_key)
                    last = newest
                    frames = [f for e in events if (f := self._frame(rtype, e, matches)) is not None]
                for frame in frames:
                    self._write_chunk(json.dumps(frame).encode() + b"\n")
                if not frames and self._client_gone():
                    self.close_connection = True
                    return
            self._end_stream()
        except OSError:  # the client went away (broken pipe, reset, TLS EOF)
            self.close_connection = True

    def _frame(self, rtype: ResourceType, event: WatchEvent, matches: Callable[[Obj], bool]) -> Obj | None:
        store = self.fake.store
        view = store.view(rtype, event.obj)
        now_match = matches(view)
        old_match = event.old is not None and matches(store.view(rtype, event.old))
        if event.type == "ADDED":
            kind = "ADDED" if now_match else None
        elif event.type == "DELETED":
            kind = "DELETED" if (now_match or old_match) else None
        elif now_match and old_match:
            kind = "MODIFIED"
        elif now_match:
            kind = "ADDED"
        elif old_match:
            kind = "DELETED"
        else:
            kind = None
        return None if kind is None else {"type": kind, "object": view}

    @staticmethod
    def _bookmark(rtype: ResourceType, rv: int, *, initial_end: bool) -> Obj:
        meta: Obj = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return {
            "type": "BOOKMARK",
            "object": {"kind": rtype.kind, "apiVersion": rtype.api_version, "metadata": meta},
        }

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self._status = self._record.status = 200
        self._log_record()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeKube) -> None:
        self.fake = fake
        super().__init__(address, _Handler)


class FakeKube:
    """A fake Kubernetes API server on 127.0.0.1, for the official clients and real helm.

    Knobs (all can be changed while it runs):

    * ``failure_rules`` - list of :class:`FailureRule` (image substring -> how it fails)
    * ``namespace_deletion_delay`` - seconds a deleted namespace stays Terminating (0.3)
    * ``ready_delay`` - seconds before a started pod turns Ready (0: at once)
    * ``node_allocatable`` - what the one node offers; a pod asking more stays Pending
    * ``token`` - the bearer token required (None: no auth)
    * ``latency`` - seconds each request is delayed
    """

    def __init__(
        self,
        *,
        port: int = 0,
        kubeconfig: str | os.PathLike[str] | None = None,
        namespace_deletion_delay: float = 0.3,
        ready_delay: float = 0.0,
        failure_rules: list[FailureRule] | None = None,
        token: str | None = TOKEN,
        aggregated_discovery: bool = True,
        kube_version: str = KUBE_VERSION,
        context: str = "fakekube",
        namespace: str = "default",
        tls: bool = False,
    ) -> None:
        self.store = Store()
        self.controllers = Controllers(self.store)
        self.controllers.namespace_deletion_delay = namespace_deletion_delay
        self.controllers.ready_delay = ready_delay
        if failure_rules is not None:
            self.controllers.failure_rules = failure_rules
        self.token = token
        self.tls = tls
        self._ca_pem = b""
        self.aggregated_discovery = aggregated_discovery
        self.kube_version = kube_version
        self.context = context
        self.default_namespace = namespace
        self.latency = 0.0
        self._job_entrypoints: dict[str, list[str]] = {}
        self.request_log: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self.stopping = threading.Event()
        self._port = port
        self._kubeconfig_arg = Path(kubeconfig) if kubeconfig is not None else None
        self._tmpdir: str | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.kubeconfig: Path = Path()
        self._seed()

    # -- knobs ----------------------------------------------------------------------------------

    @property
    def failure_rules(self) -> list[FailureRule]:
        return self.controllers.failure_rules

    @failure_rules.setter
    def failure_rules(self, rules: list[FailureRule]) -> None:
        self.controllers.failure_rules = rules

    @property
    def run_jobs_in(self) -> Path | None:
        """Set to a directory: Jobs' containers run their command there as local processes."""
        jobs = self.controllers.job_processes
        return jobs.workdir if jobs is not None else None

    @run_jobs_in.setter
    def run_jobs_in(self, directory: Path | None) -> None:
        entrypoints = self.job_entrypoints
        self.controllers.job_processes = (
            JobProcesses(directory, entrypoints=entrypoints) if directory is not None else None
        )

    @property
    def job_entrypoints(self) -> dict[str, list[str]]:
        """image -> local argv run for a Job container that has no ``command`` (its entrypoint)."""
        jobs = self.controllers.job_processes
        return jobs.entrypoints if jobs is not None else dict(self._job_entrypoints)

    @job_entrypoints.setter
    def job_entrypoints(self, entrypoints: dict[str, list[str]]) -> None:
        self._job_entrypoints = dict(entrypoints)
        if self.controllers.job_processes is not None:
            self.controllers.job_processes.entrypoints = dict(entrypoints)

    @property
    def namespace_deletion_delay(self) -> float:
        return self.controllers.namespace_deletion_delay

    @namespace_deletion_delay.setter
    def namespace_deletion_delay(self, seconds: float) -> None:
        self.controllers.namespace_deletion_delay = seconds

    @property
    def ready_delay(self) -> float:
        return self.controllers.ready_delay

    @ready_delay.setter
    def ready_delay(self, seconds: float) -> None:
        self.controllers.ready_delay = seconds

    @property
    def node_allocatable(self) -> dict[str, str]:
        return self.controllers.node_allocatable

    # -- lifecycle ------------------------------------------------------------------------------

    def _seed(self) -> None:
        for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        self.store.put(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": NODE_NAME,
                    "uid": "00000000-0000-0000-0000-000000000001",
                    "creationTimestamp": now_rfc3339(),
                    "labels": {
                        "kubernetes.io/hostname": NODE_NAME,
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        "node-role.kubernetes.io/control-plane": "",
                    },
                },
                "spec": {"podCIDR": "10.244.0.0/24"},
                "status": {
                    "capacity": dict(self.controllers.node_allocatable),
                    "allocatable": dict(self.controllers.node_allocatable),
                    "addresses": [
                        {"type": "InternalIP", "address": NODE_IP},
                        {"type": "Hostname", "address": NODE_NAME},
                    ],
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True",
                            "reason": "KubeletReady",
                            "message": "kubelet is posting ready status",
                            "lastHeartbeatTime": now_rfc3339(),
                            "lastTransitionTime": now_rfc3339(),
                        }
                    ],
                    "nodeInfo": {
                        "kubeletVersion": self.kube_version,
                        "operatingSystem": "linux",
                        "architecture": "amd64",
                    },
                },
            }
        )
        self.store.create(
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    "name": "standard",
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "provisioner": "fakekube.test/hostpath",
                "reclaimPolicy": "Delete",
                "volumeBindingMode": "Immediate",
            }
        )
        self.store.create(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": "kubernetes",
                    "namespace": "default",
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                },
                "spec": {
                    "clusterIP": "10.96.0.1",
                    "ports": [{"name": "https", "port": 443, "targetPort": 6443}],
                },
            }
        )

    def start(self) -> FakeKube:
        self._server = _Server(("127.0.0.1", self._port), self)
        if self.tls:
            self._wrap_tls(self._server)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fakekube-http",
            daemon=True,
        )
        self._thread.start()
        self.controllers.start()
        if self._kubeconfig_arg is None:
            import tempfile

            self._tmpdir = tempfile.mkdtemp(prefix="fakekube-")
            self.kubeconfig = Path(self._tmpdir) / "kubeconfig"
        else:
            self.kubeconfig = self._kubeconfig_arg
        self.write_kubeconfig(self.kubeconfig)
        return self

    def stop(self) -> None:
        self.stopping.set()
        with self.store.changed:
            self.store.changed.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self.controllers.stop()
        if self._tmpdir is not None:
            import shutil

            shutil.rmtree(self._tmpdir, ignore_errors=True)

    def __enter__(self) -> FakeKube:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses and config -------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeKube is not started"
        return int(self._server.server_address[1])

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.address}"

    @property
    def ca_pem(self) -> bytes:
        """The CA (self-signed serving) certificate in TLS mode, PEM; empty over http."""
        return self._ca_pem

    def _wrap_tls(self, server: _Server) -> None:
        """Serve HTTPS with a self-signed certificate for 127.0.0.1, made now (needs ``cryptography``)."""
        import tempfile

        from .tls import self_signed

        cert_pem, key_pem = self_signed()
        self._ca_pem = cert_pem
        with tempfile.TemporaryDirectory(prefix="fakekube-tls-") as tmp:
            cert_file, key_file = Path(tmp) / "tls.crt", Path(tmp) / "tls.key"
            cert_file.write_bytes(cert_pem)
            key_file.write_bytes(key_pem)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert_file, key_file)
        context.set_alpn_protocols(["http/1.1"])
        server.socket = context.wrap_socket(server.socket, server_side=True)

    def kubeconfig_dict(self) -> Obj:
        user: Obj = {"token": self.token} if self.token else {}
        cluster: Obj = {"server": self.url}
        if self.tls:
            import base64

            cluster["certificate-authority-data"] = base64.b64encode(self._ca_pem).decode()
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": self.context, "cluster": cluster}],
            "users": [{"name": self.context, "user": user}],
            "contexts": [
                {
                    "name": self.context,
                    "context": {
                        "cluster": self.context,
                        "user": self.context,
                        "namespace": self.default_namespace,
                    },
                }
            ],
            "current-context": self.context,
            "preferences": {},
        }

    def write_kubeconfig(self, path: str | os.PathLike[str]) -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(self.kubeconfig_dict(), sort_keys=False))
        target.chmod(0o600)
        return target

    def env(self) -> dict[str, str]:
        """Environment for a subprocess (helm, kubectl) to talk to this server."""
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    def version_info(self) -> Obj:
        major, minor, _ = self.kube_version.lstrip("v").split(".", 2)
        return {
            "major": major,
            "minor": minor,
            "emulationMajor": major,
            "emulationMinor": minor,
            "minCompatibilityMajor": major,
            "minCompatibilityMinor": str(max(0, int(minor) - 1)),
            "gitVersion": self.kube_version,
            "gitCommit": "fakekube",
            "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z",
            "goVersion": "go1.24.0",
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    # -- helpers for tests ----------------------------------------------------------------------

    def requests(self, method: str | None = None, path_contains: str = "") -> list[RequestRecord]:
        with self._log_lock:
            return [
                r
                for r in self.request_log
                if (method is None or r.method == method) and path_contains in r.path
            ]

    def clear_request_log(self) -> None:
        with self._log_lock:
            self.request_log.clear()

    def wait_until(self, predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
        """Poll ``predicate`` until it returns something truthy; raise TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            time.sleep(interval)

    def settle(self) -> None:
        """Run every timer that is due now (normally the background thread does)."""
        self.controllers.run_due()

    def iter_log(self) -> Iterator[RequestRecord]:
        with self._log_lock:
            yield from list(self.request_log)
