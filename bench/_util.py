"""Shared helpers: time commands side by side, in one run, and print ratios."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
TOOLS_BIN = ROOT / ".tools" / "bin"
# Taken out of the environment: DeployTag reads every DEPLOYTAG_* variable as configuration.
BENCH_KUBECONFIG = os.environ.pop("DEPLOYTAG_BENCH_KUBECONFIG", None)


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PATH"] = os.pathsep.join([str(VENV_BIN), str(TOOLS_BIN), e.get("PATH", "")])
    # Measure DeployTag as installed: pip compiles an installed package's bytecode once, so a
    # sandbox's PYTHONDONTWRITEBYTECODE would otherwise charge every run for compiling the source.
    e.pop("PYTHONDONTWRITEBYTECODE", None)
    return e


def compile_sources() -> None:
    """Write the bytecode of src/ (an editable install is not compiled by pip)."""
    subprocess.run(
        [str(VENV_BIN / "python"), "-m", "compileall", "-q", str(ROOT / "src")],
        env=env(),
        check=True,
        capture_output=True,
    )


def time_command(
    argv: Sequence[str], *, runs: int, cwd: Path | None = None, extra_env: dict[str, str] | None = None
) -> float:
    """Median wall seconds over ``runs`` after one warm-up run."""
    run_env = {**env(), **(extra_env or {})}
    subprocess.run(argv, cwd=cwd, env=run_env, check=True, capture_output=True)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=run_env, check=True, capture_output=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def time_pair(
    ours: Sequence[str],
    reference: Sequence[str],
    *,
    runs: int,
    cwd: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> tuple[float, float]:
    """Median wall seconds of both, run alternately so that load from other processes on the
    machine falls on both sides alike. One warm-up run each first."""
    run_env = {**env(), **(extra_env or {})}
    samples: tuple[list[float], list[float]] = ([], [])
    for i in range(runs + 1):
        for side, argv in enumerate((ours, reference)):
            started = time.perf_counter()
            subprocess.run(argv, cwd=cwd, env=run_env, check=True, capture_output=True)
            if i:
                samples[side].append(time.perf_counter() - started)
    return statistics.median(samples[0]), statistics.median(samples[1])


def report(name: str, ours: float, reference: float, reference_name: str, target: str) -> None:
    ratio = ours / reference if reference else float("inf")
    print(
        f"{name:<32} {ours * 1000:8.1f} ms   {reference_name} {reference * 1000:8.1f} ms   "
        f"ratio {ratio:5.2f}x   target {target}"
    )


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")

# The costliest third-party dependencies, and the well-kept alternative that would remove the cost.
ALTERNATIVES = {
    "kubernetes": "only the SDK fallback imports it (legacy auth-provider, proxies); else direct REST",
    "msgspec": "none needed: the config schema's Structs (replaced pydantic, ~95 ms a run)",
    "boto3": "import only in the AWS adapters (already lazy); botocore's loader is the cost",
    "botocore": "import only in the AWS adapters (already lazy)",
    "yaml": "PyYAML's C loader (CSafeLoader), already preferred when built",
    "click": "none needed: click is small",
    "cloudflare": "import only in the Cloudflare adapter (already lazy)",
    "urllib3": "the kubernetes SDK's transport, in the SDK fallback only; direct REST uses http.client",
}


def costliest_imports(
    argv: Sequence[str],
    *,
    label: str,
    cwd: Path | None = None,
    top: int = 8,
    extra_env: dict[str, str] | None = None,
) -> None:
    """Run ``argv`` (a deploytag command line) under ``python -X importtime`` and print the
    top-level packages that cost the most, DeployTag's own modules excluded except as a total."""
    cmd = [str(VENV_BIN / "python"), "-X", "importtime", "-m", "deploytag", *argv[1:]]
    proc = subprocess.run(
        cmd, cwd=cwd, env={**env(), **(extra_env or {})}, capture_output=True, text=True, check=False
    )
    per_package: dict[str, int] = {}
    own: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        m = _IMPORT_LINE.match(line)
        if not m:
            continue
        self_us, name = int(m.group(1)), m.group(4)
        package = name.split(".")[0]
        per_package[package] = per_package.get(package, 0) + self_us
        if package == "deploytag":
            own[name] = self_us
    total = sum(per_package.values())
    print(f"  imports of `{label}`: {total / 1000:.0f} ms under -X importtime, costliest:")
    stdlib = set(sys.stdlib_module_names)
    for package, us in sorted(per_package.items(), key=lambda kv: -kv[1])[:top]:
        kind = "stdlib" if package in stdlib or package.startswith("_") else ""
        hint = ALTERNATIVES.get(package, "DeployTag's own modules" if package == "deploytag" else kind)
        print(f"    {us / 1000:7.1f} ms  {package:<18} {hint}")
    worst = sorted(own.items(), key=lambda kv: -kv[1])[:3]
    print("    of DeployTag's own: " + ", ".join(f"{name} {us / 1000:.1f} ms" for name, us in worst))


def shared_k8s() -> Path:
    """../shared/k8s from the project's root; from a git worktree (e.g. /work/wt/NAME) one more up."""
    candidates = [parent / "shared" / "k8s" for parent in ROOT.parents[:2]]
    return next((c for c in candidates if c.is_dir()), candidates[0])


@contextlib.contextmanager
def real_control_plane() -> Iterator[Path]:
    """A kubeconfig: DEPLOYTAG_BENCH_KUBECONFIG's cluster, else a real control plane started with
    ../shared/k8s/up in a temporary directory (about 15 s) and stopped and wiped afterwards."""
    if BENCH_KUBECONFIG:
        yield Path(BENCH_KUBECONFIG)
        return
    directory = Path(tempfile.mkdtemp(prefix="deploytag-bench-k8s-"))
    k8s = shared_k8s()
    try:
        proc = subprocess.run(
            [str(k8s / "up"), str(directory)], env=env(), capture_output=True, text=True, check=False
        )
        found = [
            line.partition("=")[2] for line in proc.stdout.splitlines() if line.startswith("KUBECONFIG=")
        ]
        if proc.returncode != 0 or not found:
            sys.exit(f"{k8s / 'up'} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
        yield Path(found[-1])
    finally:
        subprocess.run(
            [str(k8s / "down"), str(directory), "--wipe"], env=env(), capture_output=True, check=False
        )
        shutil.rmtree(directory, ignore_errors=True)
