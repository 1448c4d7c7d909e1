"""Tearing down many environments: `deploytag gc --parallel N` against `--parallel 1`, both removing
N previews of the ConfigMap app (tests/e2e_real/realapp.py) whose branches are gone, on the real
control plane (DEPLOYTAG_BENCH_KUBECONFIG, else ../shared/k8s/up in a temporary directory).

Target: below 0.5x. Each removal mostly waits for the namespace controller, so removals overlap.
Also prints how long the decision alone (`gc --dry-run`) takes with N environments.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _util import ROOT, real_control_plane, report

sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "e2e_real"))

from realapp import RealApp, git, make_app


def deploy_all(app: RealApp, branches: list[str]) -> None:
    procs = [app.popen("deploy", "--branch", b, "--commit", app.commits[0]) for b in branches]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        if proc.returncode != 0:
            raise SystemExit(f"deploy failed: {err[-500:]}")


def timed_gc(app: RealApp, *args: str) -> float:
    started = time.perf_counter()
    result = app.run("gc", "--no-orphan-sweep", *args, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"gc failed: {result.stderr[-500:]}")
    return time.perf_counter() - started


def run(kubeconfig: Path, tmp: Path, n: int) -> None:
    app = make_app(tmp, kubeconfig, commits=1)
    bare = tmp / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(app.repo), str(bare)], check=True)
    git(app.repo, "remote", "add", "origin", str(bare))  # holds main only: every preview's branch is gone
    branches = [f"feature/bench-{i}" for i in range(n)]
    deploy_all(app, branches)
    decide = timed_gc(app, "--dry-run")
    serial = timed_gc(app, "--parallel", "1")
    deploy_all(app, branches)
    parallel = timed_gc(app, "--parallel", str(n))
    print(f"gc --dry-run, {n} environments: {decide * 1000:.0f} ms")
    report(f"gc removing {n} (--parallel {n})", parallel, serial, "--parallel 1", "< 0.5x")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    with tempfile.TemporaryDirectory() as tmp, real_control_plane() as kubeconfig:
        run(kubeconfig, Path(tmp), n)


if __name__ == "__main__":
    main()
