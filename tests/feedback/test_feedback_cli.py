"""End to end: the installed `deploytag` deploys the ConfigMap app to the real control plane with the
GitHub double as GITHUB_API_URL and a real pull_request event as GITHUB_EVENT_PATH; one comment follows
the runs (an API failure is one warning and the same exit status; the next run repairs it), and destroy
turns it into the receipt."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from double import Double
from helpers import EVENT
from realapp import RealApp, git, kube_api, make_app

from deploytag.service.feedback_body import marker
from realkube import RealKube

pytestmark = pytest.mark.cluster

# A LoadBalancer Service: its address (written below, as a cloud controller would) is the environment's URL.
WEB_SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: LoadBalancer
  ports:
    - port: 8080
"""


class CloudController:
    """Fills ``status.loadBalancer.ingress`` of the namespace's LoadBalancer Services, as a cloud would."""

    def __init__(self, kubeconfig: Path, namespace: str, hostname: str) -> None:
        self.api, self.namespace, self.hostname = kube_api(kubeconfig), namespace, hostname
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CloudController:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import kubernetes

        core = kubernetes.client.CoreV1Api(self.api)
        while not self._stop.wait(0.2):
            try:
                services = core.list_namespaced_service(self.namespace).items
            except kubernetes.client.ApiException:
                continue  # the namespace is not there yet
            for svc in services:
                if svc.spec.type == "LoadBalancer" and not (svc.status.load_balancer.ingress or []):
                    status = {"status": {"loadBalancer": {"ingress": [{"hostname": self.hostname}]}}}
                    core.patch_namespaced_service_status(svc.metadata.name, self.namespace, status)


@pytest.fixture
def app(tmp_path: Path, real_kube: RealKube) -> Iterator[RealApp]:
    made = make_app(tmp_path, real_kube.kubeconfig, commits=1)
    (made.repo / "chart" / "templates" / "web.yaml").write_text(WEB_SERVICE)
    git(made.repo, "add", "-A")
    git(made.repo, "commit", "-q", "-m", "web service")
    made.commits.append(git(made.repo, "rev-parse", "HEAD"))
    yield made
    made.run("destroy", "--branch", made.branch, "--timeout", "60", "--no-feedback")


def event_for(app: RealApp, path: Path) -> Path:
    """The recorded pull_request event, its head moved to the app's branch and commit."""
    payload: dict[str, Any] = json.loads(EVENT.read_text())
    payload["pull_request"]["head"].update(ref=app.branch, sha=app.commits[-1])
    path.write_text(json.dumps(payload))
    return path


@pytest.mark.timeout(240)
def test_one_comment_follows_deploys_and_destroy(tmp_path: Path, app: RealApp, double: Double) -> None:
    commit = app.commits[-1]
    double.pulls[2] = {"head": app.branch, "state": "open"}
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": double.url,
        "GITHUB_REPOSITORY": double.repository,
        "GITHUB_EVENT_PATH": str(event_for(app, tmp_path / "event.json")),
        "GITHUB_REF": "refs/pull/2/merge",
        "GITHUB_TOKEN": double.token,
    }
    namespace = app.plan()["namespace"]
    hostname = f"{app.app}.elb.example.net"
    url = f"http://{hostname}:8080"
    ours = marker(app=app.app, branch=app.branch)

    with CloudController(app.kubeconfig, namespace, hostname):
        # The API fails throughout: the deploy succeeds as ever, with one warning line.
        double.fail("GET", r"/repos/.*/issues/2/comments", 500, body={"message": "Server Error"}, times=None)
        double.fail("POST", r"/repos/.*/statuses/.*", 500, body={"message": "Server Error"}, times=None)
        down = app.deploy(commit, env=env)
        assert down.returncode == 0, down.stderr
        warnings = [line for line in down.stderr.splitlines() if line.startswith("warning: ")]
        assert (
            len(warnings) == 1 and "pull request feedback not posted: GitHub answered HTTP 500" in warnings[0]
        )
        assert double.comments.get(2) is None

        # The next run (nothing changed) repairs it: one comment, ready, with the URL and the commit.
        double.faults.clear()
        again = app.deploy(commit, env=env)
        assert again.returncode == 0, again.stderr
        assert again.json()["urls"] == [url]
        [comment] = double.comments[2]
        body = comment["body"]
        assert body.startswith(ours) and "**ready**" in body
        assert f"[{url}]({url})" in body and f"`{commit[:12]}`" in body
        assert [(s["state"], s.get("target_url")) for s in double.statuses] == [
            ("pending", None),
            ("success", url),
        ]

        # A broken revision: the same exit status as without feedback (10, helm failed), and the digest.
        broken = app.deploy(commit, "--set", "invalid=true", env=env)
        assert broken.returncode == 10, broken.stderr
        [comment] = double.comments[2]
        assert "**failed**" in comment["body"] and "Failure digest" in comment["body"]
        assert double.statuses[-1]["state"] == "failure"

        # Broken and the API down: still exit 10, and one warning line.
        double.fail("GET", r"/repos/.*/issues/2/comments", 502, times=None)
        double.fail("POST", r"/repos/.*/statuses/.*", 403, body={"message": "Forbidden"}, times=None)
        broken_down = app.deploy(commit, "--set", "invalid=true", env=env)
        assert broken_down.returncode == 10, broken_down.stderr
        assert broken_down.json()["outcome"] == "failed"
        assert sum(line.startswith("warning: ") for line in broken_down.stderr.splitlines()) == 1
        double.faults.clear()

        # --no-feedback: not one call.
        before = len(double.calls)
        quiet = app.deploy(commit, "--no-feedback", env=env)
        assert quiet.returncode == 0, quiet.stderr
        assert len(double.calls) == before

    # --pr names the request when no event does (a destroy job on branch deletion, say).
    no_event = {k: v for k, v in env.items() if k not in ("GITHUB_EVENT_PATH", "GITHUB_REF")}
    gone = app.run(
        "destroy", "--branch", app.branch, "--timeout", "60", "-o", "json", "--pr", "2", env=no_event
    )
    assert gone.returncode == 0, gone.stderr
    assert not double.calls_to("GET", r"/repos/.*/pulls")  # the event, then --pr, named it
    [comment] = double.comments[2]  # still the one comment, now the receipt
    body = comment["body"]
    assert body.startswith(ours) and "**destroyed**" in body
    assert f"| namespace | `{namespace}` | yes |" in body
    for result in (down, again, broken, broken_down, quiet, gone):
        assert double.token not in result.stdout + result.stderr
    assert all(double.token not in call.raw_target for call in double.calls)
