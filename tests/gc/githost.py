"""A local HTTP double of the GitHub and GitLab endpoints `deploytag gc` asks.

GitHub: ``GET /repos/{owner}/{repo}/pulls?head={owner}:{branch}&state=all``; GitLab:
``GET /api/v4/projects/{id}/merge_requests?source_branch=...&state=all``. Bodies are the recorded
payloads in ``payloads/`` (see its README) with only the identifying fields changed. A request
without the expected token gets 401, as from the real APIs.
"""

from __future__ import annotations

import copy
import json
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).parent / "payloads"
GITHUB_TOKEN = "ghp_test_token_for_the_double"
GITLAB_TOKEN = "glpat-test-token-for-the-double"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return data


@dataclass
class GitHostDouble:
    """branch -> states of its changes, newest first ("open", "closed", "merged")."""

    changes: dict[str, list[str]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)  # paths with query, as asked
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def github_pulls(self, repository: str, branch: str) -> list[dict[str, Any]]:
        owner = repository.split("/", 1)[0]
        pulls = []
        for i, state in enumerate(self.changes.get(branch, [])):
            pull = copy.deepcopy(
                _load("github-pull-opened.json" if state == "open" else "github-pull-closed.json")
            )
            number = 100 + i
            pull["number"] = number
            pull["html_url"] = f"https://github.com/{repository}/pull/{number}"
            pull["head"]["ref"], pull["head"]["label"] = branch, f"{owner}:{branch}"
            if state == "merged":
                pull["merged_at"], pull["merged"] = pull["closed_at"], True
            pulls.append(pull)
        return pulls

    def gitlab_merge_requests(self, project: str, branch: str) -> list[dict[str, Any]]:
        found = []
        for i, state in enumerate(self.changes.get(branch, [])):
            request = copy.deepcopy(_load("gitlab-merge-request.json"))
            iid = 200 + i
            request["iid"], request["source_branch"] = iid, branch
            request["state"] = {"open": "opened"}.get(state, state)
            request["web_url"] = f"https://gitlab.example.com/{project}/-/merge_requests/{iid}"
            if state != "merged":
                request["merged_at"] = None
            found.append(request)
        return found


def _handler(double: GitHostDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            double.requests.append(self.path)
            parts = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parts.query))
            segments = [urllib.parse.unquote(s) for s in parts.path.strip("/").split("/")]
            if segments[:1] == ["repos"] and segments[-1:] == ["pulls"] and len(segments) == 4:
                if self.headers.get("Authorization") != f"Bearer {GITHUB_TOKEN}":
                    self._send(
                        401,
                        {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"},
                    )
                    return
                repository = f"{segments[1]}/{segments[2]}"
                owner, _, branch = query.get("head", "").partition(":")
                if owner != segments[1] or query.get("state") != "all":
                    self._send(200, [])
                    return
                self._send(200, double.github_pulls(repository, branch))
                return
            if segments[:3] == ["api", "v4", "projects"] and segments[-1:] == ["merge_requests"]:
                if self.headers.get("PRIVATE-TOKEN") != GITLAB_TOKEN:
                    self._send(401, {"message": "401 Unauthorized"})
                    return
                self._send(200, double.gitlab_merge_requests(segments[3], query.get("source_branch", "")))
                return
            self._send(404, {"message": "Not Found"})

    return Handler


def serve(double: GitHostDouble) -> Iterator[GitHostDouble]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(double))
    double.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield double
    finally:
        server.shutdown()
        server.server_close()
