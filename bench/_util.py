"""Shared helpers: time commands side by side, in one run, and print ratios."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
TOOLS_BIN = ROOT / ".tools" / "bin"


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PATH"] = os.pathsep.join([str(VENV_BIN), str(TOOLS_BIN), e.get("PATH", "")])
    return e


def time_command(argv: Sequence[str], *, runs: int, cwd: Path | None = None) -> float:
    """Median wall seconds over ``runs`` after one warm-up run."""
    subprocess.run(argv, cwd=cwd, env=env(), check=True, capture_output=True)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env(), check=True, capture_output=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def report(name: str, ours: float, reference: float, reference_name: str, target: str) -> None:
    ratio = ours / reference if reference else float("inf")
    print(
        f"{name:<32} {ours * 1000:8.1f} ms   {reference_name} {reference * 1000:8.1f} ms   "
        f"ratio {ratio:5.2f}x   target {target}"
    )
