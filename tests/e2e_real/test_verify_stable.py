"""A container without a readiness probe is Ready the moment it starts, on the real node.

One that dies of its configuration a second later would make the rollout look done between
crashes, and verify would call a crash loop a success. Verify watches such pods for
``cluster.verify_stable_seconds`` after the rollout reports ready and fails on a restart.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from realapp import RealApp, destroy, git, make_app

from realimages import NodeImages
from realkube import RealKube

pytestmark = pytest.mark.cluster

# No readinessProbe (unless `probed`, one that never passes): Ready as soon as the container starts.
# `dieAfter` > 0 makes it exit 3 that many seconds after starting.
UNPROBED = """
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  replicas: 1
  selector: {{matchLabels: {{app: worker}}}}
  template:
    metadata: {{labels: {{app: worker}}}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
        - name: main
          image: {image}
          command: ["sh", "-c", "{{{{ if .Values.dieAfter }}}}echo bad setting; sleep {{{{ .Values.dieAfter }}}}; exit 3{{{{ else }}}}trap 'exit 0' TERM; while :; do sleep 1; done{{{{ end }}}}"]
          {{{{- if .Values.probed }}}}
          readinessProbe: {{exec: {{command: ["false"]}}, periodSeconds: 1}}
          {{{{- end }}}}
"""


@pytest.fixture
def app(tmp_path: Path, real_node: RealKube, real_images: NodeImages) -> Iterator[RealApp]:
    made = make_app(tmp_path, real_node.kubeconfig, commits=0)
    templates = made.repo / "chart" / "templates" / "all.yaml"
    templates.write_text(templates.read_text() + UNPROBED.format(image=real_images.busybox))
    (made.repo / "chart" / "values.yaml").write_text(
        "note: ''\nneverReady: false\ninvalid: false\ndieAfter: 0\n"
    )
    git(made.repo, "add", "-A")
    git(made.repo, "commit", "-q", "-m", "worker")
    made.commits.append(git(made.repo, "rev-parse", "HEAD"))
    yield made
    destroy(made)


def test_unprobed_container_that_crashes_after_starting_fails_verify(app: RealApp) -> None:
    # 2 s after start: after the kubelet has called it Ready, within the 5 s watch.
    result = app.deploy(app.commits[-1], "--set", "dieAfter=2", "--timeout", "60")
    assert result.returncode != 0, result.stdout
    report = json.loads(result.stdout)
    assert report["outcome"] == "failed"
    assert "restarted within 5 s of the rollout reporting ready" in report["error"], report["error"]
    assert "container main of pod/worker-" in report["error"]
    # the digest says why: the exit code and the container's own last words
    assert "exit code 3" in report["digest"], report["digest"]
    assert "bad setting" in report["digest"], report["digest"]


def test_unprobed_container_that_keeps_running_passes_after_the_watch(app: RealApp) -> None:
    result = app.deploy(app.commits[-1])
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    verify = next(s for s in report["steps"] if s["name"] == "verify")
    assert verify["outcome"] == "changed"
    assert verify["seconds"] >= 5, verify


def test_a_crash_loop_of_the_new_revision_fails_long_before_the_timeout(app: RealApp) -> None:
    # With a readiness probe the pod is never Ready: the rollout stays pending while the kubelet
    # restarts the container with back-off. Verify gives up at the third restart, not at 300 s.
    started = time.monotonic()
    result = app.deploy(app.commits[-1], "--set", "dieAfter=1", "--set", "probed=true", "--timeout", "300")
    elapsed = time.monotonic() - started
    assert result.returncode != 0, result.stdout
    error = json.loads(result.stdout)["error"]
    assert "cannot start (pod/worker-" in error and "container main CrashLoopBackOff after " in error, error
    assert elapsed < 280, elapsed  # the third restart comes about 70 s in; the timeout is 300 s
