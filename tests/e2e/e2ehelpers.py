"""Helpers for the end-to-end tests. End-to-end: the installed `deploytag` command, as a user runs it, against the fake API
server (tests/fakekube) with the real helm, on a copy of the bundled example."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakekube import FakeKube

ROOT = Path(__file__).resolve().parents[2]
DEPLOYTAG = Path(sys.executable).parent / "deploytag"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
SECRET_SENTINEL = "s3cr3t-sentinel-value-do-not-leak"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class App:
    repo: Path
    kube: FakeKube
    helm: Path
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. the DNS provider's settings
    database_admin_url: str = field(default="", repr=False)  # the session PostgreSQL

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.database_admin_url:
            env["DEPLOYTAG_DATABASE_ADMIN_URL"] = self.database_admin_url
        # The venv first: the example's test.command runs `python`, as it would in the app's own CI.
        env["PATH"] = os.pathsep.join(
            [str(DEPLOYTAG.parent), str(self.helm.parent), str(ROOT / ".tools/bin"), env.get("PATH", "")]
        )
        env["DEPLOYTAG_TOOLS__HELM"] = str(self.helm)
        # These tests deploy the commit tag as it is; image builds have their own tests
        # (tests/images, tests/e2e/test_deploy_images.py), which switch this back on.
        env["DEPLOYTAG_BUILD__ENABLED"] = "false"
        env["HELM_CACHE_HOME"] = str(self.repo.parent / "helm-cache")
        env["HELM_CONFIG_HOME"] = str(self.repo.parent / "helm-config")
        env["HELM_DATA_HOME"] = str(self.repo.parent / "helm-data")
        for ci in ("GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI"):
            env.pop(ci, None)
        env.update(self.extra_env)
        return env

    def run(self, *args: str, timeout: float = 120, env: dict[str, str] | None = None) -> Result:
        argv = [str(DEPLOYTAG), "--repo", str(self.repo), "--kubeconfig", str(self.kube.kubeconfig), *args]
        proc = subprocess.run(
            argv,
            env={**self.env(), **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        argv = [str(DEPLOYTAG), "--repo", str(self.repo), "--kubeconfig", str(self.kube.kubeconfig), *args]
        return subprocess.Popen(
            argv, env={**self.env(), **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def deploy(self, branch: str = "feature/login", *extra: str, env: dict[str, str] | None = None) -> Result:
        return self.run(
            "deploy",
            "--branch",
            branch,
            "--commit",
            COMMIT,
            "--skip-tests",
            "-o",
            "json",
            "--timeout",
            "30",
            *extra,
            env=env,
        )


def copy_example(tmp_path: Path) -> Path:
    repo = tmp_path / "guestbook"
    shutil.copytree(
        ROOT / "examples" / "guestbook",
        repo,
        ignore=shutil.ignore_patterns(".deploytag", "*.tgz", "Chart.lock", "__pycache__"),
    )
    secrets = repo / "secrets.local.yaml"
    secrets.write_text(
        f"staging/app:\n  SECRET_KEY: {SECRET_SENTINEL}\n  DATABASE_PASSWORD: also-secret-pw\n"
    )
    secrets.chmod(0o600)
    # Shorter lease so the killed-run test sees the takeover quickly.
    config = repo / "deploytag.yaml"
    config.write_text(config.read_text() + "\n")
    return repo
