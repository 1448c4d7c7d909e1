"""A local HTTP double of exactly the GitHub and GitLab REST endpoints the feedback providers use.

A real ``http.server`` on 127.0.0.1. Bodies are the recorded ones in ``fixtures/``
(see its README) with ids, numbers and text filled in; pagination follows each
platform (GitHub: ``Link`` to ``/repositories/{id}/...``; GitLab: ``Link`` and
``X-Next-Page``); a wrong or missing token is a 401 as the platforms answer it.
``fail()`` queues faults (status, headers, body) for the next matching calls.

GitHub: GET /repos/{o}/{r}/pulls, GET+POST /repos/{o}/{r}/issues/{n}/comments
(and GET /repositories/{id}/issues/{n}/comments), PATCH /repos/{o}/{r}/issues/comments/{id},
POST /repos/{o}/{r}/statuses/{sha}.
GitLab (under /api/v4): GET /projects/{id}/merge_requests, GET+POST
/projects/{id}/merge_requests/{iid}/notes, PUT .../notes/{id}, POST /projects/{id}/statuses/{sha},
GET /projects/{id}/environments?name=, PUT /projects/{id}/environments/{id}.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import urllib.parse
from collections.abc import Generator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
GITHUB_STATES = {"error", "failure", "pending", "success"}
GITLAB_STATES = {"pending", "running", "success", "failed", "canceled", "skipped"}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lowercase names
    body: Any
    raw_target: str


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: Any
    times: int | None  # None: every matching call


@dataclass
class Double:
    token: str
    repository: str = "Codertocat/Hello-World"  # the webhook examples' repository
    repository_id: int = 186853002
    project: str = "278964"
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)  # number -> {head, state}
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    merge_requests: dict[int, dict[str, Any]] = field(default_factory=dict)  # iid -> {source_branch, state}
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    gitlab_statuses: list[dict[str, Any]] = field(default_factory=list)
    environments: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> {name, external_url}
    calls: list[Call] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    port: int = 0
    _next_id: int = 1000
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def gitlab_url(self) -> str:
        return f"{self.url}/api/v4"

    def fail(
        self,
        method: str,
        pattern: str,
        status: int,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int | None = 1,
    ) -> None:
        """The next ``times`` calls matching ``method`` and the path regex answer ``status``."""
        self.faults.append(Fault(method, re.compile(pattern), status, headers or {}, body, times))

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_comment(self, number: int, body: str, *, login: str = "someone") -> dict[str, Any]:
        comment: dict[str, Any] = copy.deepcopy(fixture("issue_comment.json"))
        cid = self.new_id()
        api = f"https://api.github.com/repos/{self.repository}"
        comment.update(
            id=cid,
            body=body,
            url=f"{api}/issues/comments/{cid}",
            html_url=f"https://github.com/{self.repository}/pull/{number}#issuecomment-{cid}",
            issue_url=f"{api}/issues/{number}",
        )
        comment["user"]["login"] = login
        self.comments.setdefault(number, []).append(comment)
        return comment

    def add_note(self, iid: int, body: str, *, system: bool = False) -> dict[str, Any]:
        note: dict[str, Any] = copy.deepcopy(fixture("gitlab-note.json"))
        note.update(id=self.new_id(), body=body, system=system, noteable_iid=iid)
        self.notes.setdefault(iid, []).append(note)
        return note

    def calls_to(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.fullmatch(pattern, c.path)]


def serve(double: Double) -> Generator[Double, None, None]:
    """Run the double until the generator is closed (a pytest fixture's body)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(double))
    double.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield double
    finally:
        server.shutdown()
        server.server_close()


Answer = tuple[int, Any, dict[str, str]]


def _handler(double: Double) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def _serve(self, method: str) -> None:
            parts = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            call = Call(
                method=method,
                path=parts.path,
                query=dict(urllib.parse.parse_qsl(parts.query)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=json.loads(raw) if raw else None,
                raw_target=self.path,
            )
            with double._lock:
                double.calls.append(call)
                status, body, headers = self._fault(call) or _route(double, call)
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _fault(self, call: Call) -> Answer | None:
            for fault in double.faults:
                if fault.method == call.method and fault.pattern.fullmatch(call.path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            double.faults.remove(fault)
                    return fault.status, fault.body, fault.headers
            return None

    return Handler


def _route(d: Double, call: Call) -> Answer:
    if call.path.startswith("/api/v4/"):
        return _gitlab(d, call)
    return _github(d, call)


def _github(d: Double, call: Call) -> Answer:
    if call.headers.get("authorization") not in (f"Bearer {d.token}", f"token {d.token}"):
        return 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}, {}
    repo = re.escape(d.repository)
    m = re.fullmatch(rf"/repos/{repo}/pulls", call.path)
    if m and call.method == "GET":
        owner = d.repository.split("/")[0]
        found = [
            _pull(d, n)
            for n, p in sorted(d.pulls.items())
            if f"{owner}:{p['head']}" == call.query.get("head")
            and p["state"] == call.query.get("state", "open")
        ]
        return 200, found[: int(call.query.get("per_page", 30))], {}
    m = re.fullmatch(rf"(?:/repos/{repo}|/repositories/{d.repository_id})/issues/(\d+)/comments", call.path)
    if m:
        number = int(m.group(1))
        if number not in d.pulls:
            return 404, _not_found("issues/comments#create-an-issue-comment"), {}
        if call.method == "GET":
            return _github_page(d, call, number)
        if call.method == "POST" and not call.path.startswith("/repositories/"):
            if not isinstance(call.body, dict) or not call.body.get("body"):
                return 422, fixture("error-422.json")["response"], {}
            return 201, d.add_comment(number, call.body["body"], login="github-actions[bot]"), {}
    m = re.fullmatch(rf"/repos/{repo}/issues/comments/(\d+)", call.path)
    if m and call.method == "PATCH":
        cid = int(m.group(1))
        for comments in d.comments.values():
            for comment in comments:
                if comment["id"] == cid:
                    comment["body"] = call.body["body"]
                    comment["updated_at"] = "2026-12-01T12:00:00Z"
                    return 200, comment, {}
        return 404, _not_found("issues/comments#update-an-issue-comment"), {}
    m = re.fullmatch(rf"/repos/{repo}/statuses/([0-9a-f]{{40}})", call.path)
    if m and call.method == "POST":
        body = call.body or {}
        if body.get("state") not in GITHUB_STATES:
            return 422, fixture("error-422.json")["response"], {}
        recorded = fixture("create-status.json")
        response = {**recorded["response"], **body, "id": d.new_id()}
        response["url"] = f"https://api.github.com/repos/{d.repository}/statuses/{m.group(1)}"
        d.statuses.append({**body, "sha": m.group(1)})
        return 201, response, {}
    return 404, _not_found(""), {}


def _pull(d: Double, number: int) -> dict[str, Any]:
    pull: dict[str, Any] = copy.deepcopy(fixture("pull_request.opened.json")["pull_request"])
    pull["number"] = number
    pull["head"]["ref"] = d.pulls[number]["head"]
    pull["html_url"] = f"https://github.com/{d.repository}/pull/{number}"
    return pull


def _github_page(d: Double, call: Call, number: int) -> Answer:
    per_page = min(100, int(call.query.get("per_page", 30)))
    page = int(call.query.get("page", 1))
    items = d.comments.get(number, [])
    chunk = items[(page - 1) * per_page : page * per_page]
    headers = {}
    if page * per_page < len(items):
        # As recorded in @octokit/fixtures paginate-issues: later pages by repository id.
        nxt = f"{d.url}/repositories/{d.repository_id}/issues/{number}/comments?per_page={per_page}&page={page + 1}"
        headers["Link"] = f'<{nxt}>; rel="next"'
    return 200, chunk, headers


def _not_found(doc: str) -> dict[str, str]:
    return {
        "message": "Not Found",
        "documentation_url": f"https://docs.github.com/rest/{doc}",
        "status": "404",
    }


def _gitlab(d: Double, call: Call) -> Answer:
    if call.headers.get("private-token") != d.token:
        return 401, {"message": "401 Unauthorized"}, {}
    base = f"/api/v4/projects/{re.escape(d.project)}"
    if call.path == f"/api/v4/projects/{d.project}/merge_requests" and call.method == "GET":
        found = [
            {
                "id": 90000 + iid,
                "iid": iid,
                "project_id": int(d.project),
                "state": mr["state"],
                "source_branch": mr["source_branch"],
                "target_branch": "main",
                "web_url": f"https://gitlab.example.com/group/app/-/merge_requests/{iid}",
            }
            for iid, mr in sorted(d.merge_requests.items())
            if mr["source_branch"] == call.query.get("source_branch")
            and mr["state"] == call.query.get("state", mr["state"])
        ]
        return 200, found[: int(call.query.get("per_page", 20))], {}
    m = re.fullmatch(rf"{base}/merge_requests/(\d+)/notes(?:/(\d+))?", call.path)
    if m:
        iid = int(m.group(1))
        if iid not in d.merge_requests:
            return 404, {"message": "404 Not found"}, {}
        if m.group(2) is None and call.method == "GET":
            return _gitlab_page(d, call, iid)
        if m.group(2) is None and call.method == "POST":
            if not isinstance(call.body, dict) or not call.body.get("body"):
                return 400, {"message": "400 Bad request - body is missing"}, {}
            return 201, d.add_note(iid, call.body["body"]), {}
        if m.group(2) is not None and call.method == "PUT":
            for note in d.notes.get(iid, []):
                if note["id"] == int(m.group(2)):
                    note["body"] = call.body["body"]
                    return 200, note, {}
            return 404, {"message": "404 Note Not Found"}, {}
    if call.path == f"/api/v4/projects/{d.project}/environments" and call.method == "GET":
        named = [
            _environment(i, e)
            for i, e in sorted(d.environments.items())
            if e["name"] == call.query.get("name")
        ]
        return 200, named, {}
    m = re.fullmatch(rf"{base}/environments/(\d+)", call.path)
    if m and call.method == "PUT":
        env = d.environments.get(int(m.group(1)))
        if env is None:
            return 404, {"message": "404 Environment Not Found"}, {}
        env["external_url"] = (call.body or {}).get("external_url", env.get("external_url"))
        return 200, _environment(int(m.group(1)), env), {}
    m = re.fullmatch(rf"{base}/statuses/([0-9a-f]{{40}})", call.path)
    if m and call.method == "POST":
        body = call.body or {}
        if body.get("state") not in GITLAB_STATES:
            return 400, {"error": "state does not have a valid value"}, {}
        response = {**fixture("gitlab-status.json"), **body, "sha": m.group(1), "status": body["state"]}
        d.gitlab_statuses.append({**body, "sha": m.group(1)})
        return 201, response, {}
    return 404, {"message": "404 Not Found"}, {}


def _environment(eid: int, env: dict[str, Any]) -> dict[str, Any]:
    """As in docs.gitlab.com/api/environments ("Get a specific environment", trimmed)."""
    slug = re.sub(r"[^a-z0-9]+", "-", env["name"].lower()).strip("-")
    return {
        "id": eid,
        "name": env["name"],
        "slug": slug,
        "external_url": env.get("external_url"),
        "state": "available",
        "tier": "development",
        "created_at": "2019-05-25T18:55:13.252Z",
        "updated_at": "2019-05-27T18:55:13.252Z",
    }


def _gitlab_page(d: Double, call: Call, iid: int) -> Answer:
    per_page = min(100, int(call.query.get("per_page", 20)))
    page = int(call.query.get("page", 1))
    items = d.notes.get(iid, [])
    if call.query.get("sort") == "desc":
        items = list(reversed(items))
    chunk = items[(page - 1) * per_page : page * per_page]
    headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(items))}
    if page * per_page < len(items):
        query = dict(call.query, page=str(page + 1))
        nxt = f"{d.url}{call.path}?{urllib.parse.urlencode(query)}"
        headers["X-Next-Page"] = str(page + 1)
        headers["Link"] = f'<{nxt}>; rel="next"'
    return 200, chunk, headers
