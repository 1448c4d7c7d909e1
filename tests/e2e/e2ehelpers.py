"""Helpers for the end-to-end tests. End-to-end: the installed `deploytag` command, as a user runs it, against
the real Kubernetes control plane and node (tests/realkube.py) with the real helm, on a copy of the bundled
example whose pods really run (images built from Debian packages, tests/nodeimages.py).

The cluster is shared (by the helm versions, and by other suites): every test's app has a random name,
so its namespaces, releases, databases and leases are its own."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubeapi import Kube

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
    kube: Kube
    helm: Path
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. the DNS provider's settings
    database_admin_url: str = field(default="", repr=False)  # the session PostgreSQL
    name: str = "guestbook"  # deploytag.yaml's app: random per test (copy_example), the prefix of every name
    # DEPLOYTAG_* settings that build the app image onto the node's registry (empty: no build).
    build_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.database_admin_url:
            env["DEPLOYTAG_DATABASE_ADMIN_URL"] = self.database_admin_url
        # The venv first: the example's test.command runs `python`, as it would in the app's own CI.
        env["PATH"] = os.pathsep.join(
            [str(DEPLOYTAG.parent), str(self.helm.parent), str(ROOT / ".tools/bin"), env.get("PATH", "")]
        )
        env["DEPLOYTAG_TOOLS__HELM"] = str(self.helm)
        # The pods really run, so the image must exist: DeployTag builds it onto the session's
        # Python base and pushes it to the node's registry (a branch's tag, once built, is found
        # there by its inputs hash and not built again). Without build settings: the tag as it is.
        env["DEPLOYTAG_BUILD__ENABLED"] = "true" if self.build_env else "false"
        env.update(self.build_env)
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


# The real node has no cluster DNS and no kube-proxy, so the app cannot reach the Redis subchart's
# Service by name: it keeps entries in memory (redis.enabled false). Short probe periods and no
# pre-stop sleep keep rollouts and namespace deletion quick; the values stay the example's otherwise.
NODE_VALUES: dict[str, Any] = {
    "redis": {"enabled": False},
    # Probed every second, but patient: on 2 busy cores a probe can take seconds to answer.
    "readinessProbe": {"periodSeconds": 1, "timeoutSeconds": 5, "failureThreshold": 5},
    "livenessProbe": {"initialDelaySeconds": 5, "periodSeconds": 5},
    "preStopSleepSeconds": 0,
    "terminationGracePeriodSeconds": 2,
}


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = (
            merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def random_app_name() -> str:
    return "guestbook" + secrets.token_hex(3)


def copy_example(tmp_path: Path, name: str = "guestbook") -> Path:
    """The example in tmp_path, named ``name`` (app:), with the node's values for previews."""
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
    config = repo / "deploytag.yaml"
    config.write_text(config.read_text().replace("\napp: guestbook\n", f"\napp: {name}\n", 1))
    preview = repo / "deploy" / "values-preview.yaml"
    preview.write_text(yaml.safe_dump(merge(yaml.safe_load(preview.read_text()), NODE_VALUES)))
    return repo
