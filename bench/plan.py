"""`deploytag plan` on the bundled example against raw `helm dependency build && helm template`.

Target: plan <= 1.5x the raw helm commands of the same chart (plan derives
names, layers values, renders with helm, splits and lints the manifests).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from _util import ROOT, VENV_BIN, compile_sources, costliest_imports, report, time_pair


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    compile_sources()
    example = ROOT / "examples" / "guestbook"
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "guestbook"
        shutil.copytree(example, copy, ignore=shutil.ignore_patterns(".deploytag"))
        helm = shutil.which("helm", path=str(ROOT / ".tools" / "bin")) or "helm"
        raw = [
            "sh",
            "-c",
            f'"{helm}" dependency build chart >/dev/null && "{helm}" template guestbook-x chart '
            "-f deploy/values-common.yaml -f deploy/values-preview.yaml >/dev/null",
        ]
        plan = [str(VENV_BIN / "deploytag"), "plan", "--branch", "feature/bench", "--commit", "0" * 40]
        ours, reference = time_pair(plan, raw, runs=runs, cwd=copy)
        report("deploytag plan (example)", ours, reference, "helm dep build+template", "<= 1.5x")
        costliest_imports(plan, label="deploytag plan", cwd=copy)


if __name__ == "__main__":
    main()
