"""Readable names, preview limits and the cost estimate, through the installed CLI against the real
API server and real helm (Helm 4; names and limits do not depend on the helm version).

Refusals are checked against the API itself: after a refused deploy nothing new exists (no namespace,
no Lease, no helm release Secret) and the other environment's namespace is untouched (same
resourceVersion). The cost comes from a CronJob in the chart: verify does not wait for CronJobs, a
yearly schedule never fires during the test, and without a node nothing would run anyway, so the
estimate is read from real API objects without needing a pod to be ready (rendered manifests would
not show what runs now, e.g. a sleeping environment).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from realapp import RealApp, git, kube_api, make_app, namespace_annotations

from realkube import RealKube

pytestmark = pytest.mark.cluster

CONFIG = """app: {app}
branches:
  previews: ["feature/*", "feature-*"]
chart:
  path: chart
  timeout_seconds: 60
cluster:
  quota: {{enabled: false}}
"""

# 0.5 vCPU and 1 GiB for one pod: 0.5 x 23.08 + 1 x 3.09 = 14.63 USD a month at the default prices.
CRONJOB = """apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
spec:
  schedule: "0 0 1 1 *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: main
              image: registry.invalid/deploytag/report:1
              resources:
                requests: {cpu: 500m, memory: 1Gi}
"""


@pytest.fixture
def app(tmp_path: Path, real_kube: RealKube) -> Iterator[RealApp]:
    made = make_app(tmp_path, real_kube.kubeconfig, commits=2)
    (made.repo / "deploytag.yaml").write_text(CONFIG.format(app=made.app))
    (made.repo / "chart" / "templates" / "cron.yaml").write_text(CRONJOB)
    git(made.repo, "add", "-A")
    git(made.repo, "commit", "-q", "-m", "cron and limits")
    made.commits.append(git(made.repo, "rev-parse", "HEAD"))
    yield made
    for branch in ("feature/login", "feature/b"):
        made.run("destroy", "--branch", branch, "--timeout", "60")


def deploy(app: RealApp, branch: str, commit: str, env: dict[str, str] | None = None) -> Any:
    return app.run("deploy", "--branch", branch, "--commit", commit, "-o", "json", env=env)


def app_objects(api: Any, app: str) -> tuple[list[str], list[str], list[str]]:
    """The app's namespaces, Leases in the lock namespace, and helm release Secrets anywhere."""
    import kubernetes

    core = kubernetes.client.CoreV1Api(api)
    namespaces = sorted(
        ns.metadata.name for ns in core.list_namespace().items if ns.metadata.name.startswith(app)
    )
    coordination = kubernetes.client.CoordinationV1Api(api)
    leases = sorted(
        lease.metadata.name
        for lease in coordination.list_namespaced_lease("default").items
        if app in lease.metadata.name
    )
    releases = sorted(
        s.metadata.name
        for s in core.list_secret_for_all_namespaces(label_selector="owner=helm").items
        if app in s.metadata.name
    )
    return namespaces, leases, releases


def one_line_error(result: Any) -> str:
    lines = [str(line) for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.timeout(240)
def test_collision_limits_and_cost(app: RealApp) -> None:
    c1, _c2, c3 = app.commits
    api = kube_api(app.kubeconfig)

    # A readable name: '/' -> '-' adds no hash suffix; the author is the commit's e-mail here.
    first = deploy(app, "feature/login", c3)
    assert first.returncode == 0, first.stderr
    report = first.json()
    ns = report["namespace"]
    assert (ns, report["release"]) == (f"{app.app}-feature-login", f"{app.app}-feature-login")
    assert report["cost"] == {"cpu": 0.5, "memory_gib": 1.0, "monthly": 14.63, "currency": "USD"}
    notes = namespace_annotations(api, ns)
    assert (notes["deploytag.dev/branch"], notes["deploytag.dev/author"]) == (
        "feature/login",
        "t@example.com",
    )

    import kubernetes

    core = kubernetes.client.CoreV1Api(api)
    version = core.read_namespace(ns).metadata.resource_version
    before = app_objects(api, app.app)

    # feature-login reads the same: refused (exit 18) before any side effect, in deploy and in plan.
    clash = deploy(app, "feature-login", c1)
    assert clash.returncode == 18, clash.stderr
    line = one_line_error(clash)
    assert f"namespace {ns}, which belongs to branch 'feature/login'" in line
    assert "rename this branch" in line
    assert clash.json()["outcome"] == "failed"
    planned = app.run("plan", "--branch", "feature-login", "--commit", c1, "--no-render", "--check-cluster")
    assert planned.returncode == 18, planned.stderr
    assert "belongs to branch 'feature/login'" in one_line_error(planned)
    assert core.read_namespace(ns).metadata.resource_version == version
    assert app_objects(api, app.app) == before

    # One preview per author: t@example.com has one, so a second is refused, naming the oldest.
    per_author = {"DEPLOYTAG_LIMITS__MAX_PREVIEWS_PER_AUTHOR": "1"}
    refused = deploy(app, "feature/b", c3, env=per_author)
    assert refused.returncode == 19, refused.stderr
    line = one_line_error(refused)
    assert "t@example.com already has 1 previews" in line and "limits.max_previews_per_author is 1" in line
    assert re.search(r"oldest: feature/login \(\d+m old\)", line), line
    assert app_objects(api, app.app) == before

    # Another author (CI's login) may; the author is recorded on the new namespace.
    allowed = deploy(app, "feature/b", c3, env={**per_author, "GITLAB_USER_LOGIN": "alice"})
    assert allowed.returncode == 0, allowed.stderr
    b_ns = allowed.json()["namespace"]
    assert namespace_annotations(api, b_ns)["deploytag.dev/author"] == "alice"
    after_b = app_objects(api, app.app)

    # Two previews at most: a third is refused; redeploying an existing one never is.
    at_most_two = {"DEPLOYTAG_LIMITS__MAX_PREVIEWS": "2"}
    third = deploy(app, "feature/c", c3, env=at_most_two)
    assert third.returncode == 19, third.stderr
    line = one_line_error(third)
    assert "already has 2 previews and limits.max_previews is 2" in line
    assert re.search(r"remove 1 first, oldest: feature/login \(\d+m old\)", line), line
    assert "deploytag destroy --branch 'feature/login'" in line
    assert app_objects(api, app.app) == after_b
    again = app.run("deploy", "--branch", "feature/b", "--commit", c3, "--force", env=at_most_two)
    assert again.returncode == 0, again.stderr
    assert "cost: ~14.63 USD/month (0.5 vCPU, 1 GiB requested)" in again.stdout  # the deploy summary

    # The estimate in status and list (JSON), read from the cluster now.
    status = app.run("status", "--branch", "feature/login", "-o", "json")
    assert status.returncode == 0, status.stderr
    assert status.json()["cost"] == {"cpu": 0.5, "memory_gib": 1.0, "monthly": 14.63, "currency": "USD"}
    listed = app.run("list", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["branch"]: row for row in listed.json()["environments"]}
    assert {b: (r["monthly_cost"], r["currency"]) for b, r in rows.items()} == {
        "feature/login": (14.63, "USD"),
        "feature/b": (14.63, "USD"),
    }
    text = app.run("list")
    assert "cost/month" in text.stdout and "14.63 USD" in text.stdout
