"""No-op redeploy: `deploytag deploy` with nothing changed against raw `helm upgrade --install`
of the same chart and values, both against the fake API server (tests/fakekube).

Target: below 1x. DeployTag compares a fingerprint recorded on the namespace and
skips helm; raw helm always renders and writes a new revision.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _util import ROOT, VENV_BIN, env, report

sys.path.insert(0, str(ROOT / "tests"))

from fakekube import FakeKube


def timed(argv: list[str], cwd: Path, runs: int, extra_env: dict[str, str]) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env={**env(), **extra_env}, check=True, capture_output=True)
        samples.append(time.perf_counter() - started)
    return sorted(samples)[len(samples) // 2]


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp, FakeKube(kubeconfig=Path(tmp) / "kubeconfig") as kube:
        repo = Path(tmp) / "guestbook"
        shutil.copytree(ROOT / "examples" / "guestbook", repo, ignore=shutil.ignore_patterns(".deploytag"))
        (repo / "secrets.local.yaml").chmod(0o600)
        helm = shutil.which("helm", path=str(ROOT / ".tools" / "bin")) or "helm"
        kenv = {
            "KUBECONFIG": str(kube.kubeconfig),
            # Raw helm has no database or DNS to check: compare the release path alone.
            "DEPLOYTAG_DATABASE__ENVIRONMENTS": "[]",
            "DEPLOYTAG_DNS__PROVIDER": "none",
        }
        deploy = [
            str(VENV_BIN / "deploytag"),
            "--kubeconfig",
            str(kube.kubeconfig),
            "deploy",
            "--branch",
            "feature/bench",
            "--commit",
            "0" * 40,
            "--skip-tests",
            "--skip-build",  # compared with raw helm: no image build on either side
        ]
        subprocess.run(deploy, cwd=repo, env={**env(), **kenv}, check=True, capture_output=True)
        ours = timed(deploy, repo, runs, kenv)
        subprocess.run(
            [helm, "dependency", "build", "chart"], cwd=repo, env=env(), check=True, capture_output=True
        )
        raw = timed(
            [
                helm,
                "upgrade",
                "--install",
                "raw-bench",
                "chart",
                "--namespace",
                "raw-bench",
                "--create-namespace",
                "-f",
                "deploy/values-common.yaml",
                "-f",
                "deploy/values-preview.yaml",
            ],
            repo,
            runs,
            kenv,
        )
        report("deploytag deploy (no-op)", ours, raw, "helm upgrade --install", "< 1x")


if __name__ == "__main__":
    main()
