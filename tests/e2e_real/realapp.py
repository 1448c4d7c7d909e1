"""A small app for end-to-end runs of the installed `deploytag` against the real control plane.

Its chart is ConfigMaps only, so a release is ready without a node (pods would stay
Pending on the bare control plane). Two switches make genuinely bad revisions:
``neverReady=true`` adds a Deployment whose pods can never run (no node; with a node,
an image that does not exist), so helm records it "deployed" but verify fails, as a
crash loop does; ``invalid=true`` adds a Service with a port the API server rejects,
so ``helm upgrade`` itself fails and helm records the revision "failed".

The app's repository is a real git repository with a linear history of commits,
each changing the ConfigMap's content, so "which commit is deployed" is read back
from the cluster itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEPLOYTAG = Path(sys.executable).parent / "deploytag"
# tools/setup.sh unpacks Helm 4 into .tools/helm4 unless a helm is already on PATH; the
# same order as tests/conftest.py's helm_binaries().
HELM = next(
    (p for p in (ROOT / ".tools/helm4/helm", ROOT / ".tools/helm3/helm") if p.is_file()),
    Path(shutil.which("helm") or ROOT / ".tools/helm4/helm"),
)

CONFIG = """app: {app}
branches:
  previews: ["feature/*"]
chart:
  path: chart
  timeout_seconds: 60
cluster:
  quota: {{enabled: false}}
"""

CHART_YAML = "apiVersion: v2\nname: {app}\nversion: 0.1.0\n"

TEMPLATES = """apiVersion: v1
kind: ConfigMap
metadata:
  name: deployed
data:
  commit: {{ .Values.deploytag.commit | quote }}
  note: {{ .Values.note | default "" | quote }}
{{- if .Values.neverReady }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: never-ready
spec:
  replicas: 1
  selector: {matchLabels: {app: never-ready}}
  template:
    metadata: {labels: {app: never-ready}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
        - name: main
          image: registry.invalid/deploytag/never-ready:missing
{{- end }}
{{- if .Values.invalid }}
---
apiVersion: v1
kind: Service
metadata:
  name: invalid
spec:
  ports:
    - port: 99999
{{- end }}
"""


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True
    )
    return proc.stdout.strip()


@dataclass
class RealApp:
    repo: Path
    kubeconfig: Path
    app: str
    commits: list[str] = field(default_factory=list)  # oldest first
    helm: Path = HELM

    @property
    def branch(self) -> str:
        return "feature/order"

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([str(DEPLOYTAG.parent), str(ROOT / ".tools/bin"), env.get("PATH", "")])
        env["DEPLOYTAG_TOOLS__HELM"] = str(self.helm)
        for kind in ("CACHE", "CONFIG", "DATA"):
            env[f"HELM_{kind}_HOME"] = str(self.repo.parent / f"helm-{kind.lower()}")
        for ci in ("GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "DEPLOYTAG_BRANCH", "DEPLOYTAG_COMMIT"):
            env.pop(ci, None)
        env.update(extra or {})
        return env

    def argv(self, *args: str) -> list[str]:
        return [str(DEPLOYTAG), "--repo", str(self.repo), "--kubeconfig", str(self.kubeconfig), *args]

    def run(self, *args: str, timeout: float = 180, env: dict[str, str] | None = None) -> Result:
        proc = subprocess.run(
            self.argv(*args), env=self.env(env), capture_output=True, text=True, timeout=timeout, check=False
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def deploy_args(self, commit: str, *extra: str) -> list[str]:
        return ["deploy", "--branch", self.branch, "--commit", commit, "-o", "json", *extra]

    def deploy(self, commit: str, *extra: str, env: dict[str, str] | None = None) -> Result:
        return self.run(*self.deploy_args(commit, *extra), env=env)

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args),
            env=self.env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def plan(self) -> dict[str, Any]:
        result = self.run(
            "plan", "--branch", self.branch, "--commit", self.commits[-1], "--no-render", "-o", "json"
        )
        assert result.returncode == 0, result.stderr
        data: dict[str, Any] = result.json()
        return data


def make_app(tmp_path: Path, kubeconfig: Path, *, commits: int, helm: Path = HELM) -> RealApp:
    """A git repository with ``commits`` linear commits, c1 oldest; a unique app name per test."""
    app = f"ord{uuid.uuid4().hex[:8]}"
    repo = tmp_path / app
    (repo / "chart" / "templates").mkdir(parents=True)
    (repo / "deploytag.yaml").write_text(CONFIG.format(app=app))
    (repo / "chart" / "Chart.yaml").write_text(CHART_YAML.format(app=app))
    (repo / "chart" / "templates" / "all.yaml").write_text(TEMPLATES)
    (repo / "chart" / "values.yaml").write_text("note: ''\nneverReady: false\ninvalid: false\n")
    git(repo, "init", "-q", "-b", "main")
    made = RealApp(repo=repo, kubeconfig=kubeconfig, app=app, helm=helm)
    for i in range(1, commits + 1):
        (repo / "CHANGES").write_text(f"change {i}\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"c{i}")
        made.commits.append(git(repo, "rev-parse", "HEAD"))
    return made


def kube_api(kubeconfig: Path) -> Any:
    import kubernetes

    return kubernetes.config.new_client_from_config(config_file=str(kubeconfig), persist_config=False)


def namespace_annotations(api: Any, namespace: str) -> dict[str, str]:
    import kubernetes

    ns = kubernetes.client.CoreV1Api(api).read_namespace(namespace)
    return dict(ns.metadata.annotations or {})


def deployed_commit(api: Any, namespace: str) -> str:
    """What the cluster runs: the commit in the release's ConfigMap, read through the API."""
    import kubernetes

    cm = kubernetes.client.CoreV1Api(api).read_namespaced_config_map("deployed", namespace)
    return str(cm.data["commit"])


def helm_history(app: RealApp, release: str, namespace: str) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [
            str(app.helm),
            "history",
            release,
            "-n",
            namespace,
            "-o",
            "json",
            "--kubeconfig",
            str(app.kubeconfig),
        ],
        capture_output=True,
        text=True,
        env=app.env(),
        check=True,
    )
    data: list[dict[str, Any]] = json.loads(proc.stdout)
    return data


def destroy(app: RealApp) -> None:
    app.run("destroy", "--branch", app.branch, "--timeout", "60")
