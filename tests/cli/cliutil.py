"""Run the installed `deploytag` command on a copy of the bundled example."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEPLOYTAG = Path(sys.executable).parent / "deploytag"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def copy_example(tmp_path: Path) -> Path:
    repo = tmp_path / "guestbook"
    shutil.copytree(
        ROOT / "examples" / "guestbook",
        repo,
        ignore=shutil.ignore_patterns(".deploytag", "*.tgz", "Chart.lock", "__pycache__"),
    )
    (repo / "secrets.local.yaml").chmod(0o600)
    return repo


def run(repo: Path, *args: str, helm: Path | None = None, env: dict[str, str] | None = None) -> Run:
    full_env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI")}
    full_env["PATH"] = os.pathsep.join([str(ROOT / ".tools/bin"), full_env.get("PATH", "")])
    if helm is not None:
        full_env["DEPLOYTAG_TOOLS__HELM"] = str(helm)
    full_env.update(env or {})
    proc = subprocess.run(
        [str(DEPLOYTAG), "--repo", str(repo), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)
