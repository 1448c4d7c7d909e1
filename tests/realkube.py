"""The real Kubernetes cluster the cluster-facing suites run against (pytest plugin).

One cluster per test session:
- ``DEPLOYTAG_TEST_KUBECONFIG`` set: that cluster (kind, k3d, EKS ...), as it is; its registry, when it
  has a node that pulls from one, in ``DEPLOYTAG_TEST_REGISTRY`` (host:port, plain HTTP).
- otherwise ``../shared/k8s/node-up`` (root; the control plane plus a real kubelet, containerd and a
  local registry), or ``../shared/k8s/up`` (the control plane alone) when not root or when
  ``DEPLOYTAG_TEST_NODE=0``. Started once, in a temporary directory, stopped and wiped at the end.

Under CI (``CI`` set) a cluster that cannot start fails the tests that need it; it never skips them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _shared_k8s() -> Path:
    """../shared/k8s from the project's root; from a git worktree (e.g. /work/wt/NAME) one more up."""
    candidates = [parent / "shared" / "k8s" for parent in ROOT.parents[:2]]
    return next((c for c in candidates if c.is_dir()), candidates[0])


K8S_DIR = Path(os.environ.get("DEPLOYTAG_TEST_K8S_DIR") or _shared_k8s())
START_TIMEOUT = 300.0


@dataclass(frozen=True)
class RealKube:
    kubeconfig: Path
    registry: str | None  # host:port the node pulls from, plain HTTP; None without a node
    has_node: bool
    context: str | None = None
    started_seconds: float = 0.0  # how long this session waited for it; 0 for a given cluster

    def env(self) -> dict[str, str]:
        return {"KUBECONFIG": str(self.kubeconfig)}


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def unavailable(reason: str) -> None:
    """Fail under CI, skip elsewhere: a developer without the shared cluster still runs the rest."""
    if in_ci():
        pytest.fail(f"real Kubernetes unavailable in CI: {reason}", pytrace=False)
    pytest.skip(f"real Kubernetes unavailable: {reason}")


def _parse(output: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if sep and key in ("KUBECONFIG", "REGISTRY"):
            found[key] = value.strip()
    return found


def _tools_env() -> dict[str, str]:
    # node-up needs kubectl; tools/setup.sh unpacks it into .tools/bin.
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(ROOT / ".tools/bin"), env.get("PATH", "")])
    return env


# node-up judges a daemon alive by its /proc cmdline. Just after launch that can still read
# "setsid nohup <binary>" (a cold page cache on a fresh machine makes the exec slow), so node-up
# reports "registry exited" for a daemon that is starting. Both scripts are idempotent: running
# them again finds the daemons that did start and goes on.
START_ATTEMPTS = 3
RETRY_PAUSE_SECONDS = 2.0


def _start(directory: Path, with_node: bool) -> tuple[RealKube | None, str]:
    script = K8S_DIR / ("node-up" if with_node else "up")
    if not script.is_file():
        return None, f"{script} not found (set DEPLOYTAG_TEST_K8S_DIR)"
    began = time.monotonic()
    failures: list[str] = []
    for _attempt in range(START_ATTEMPTS):
        try:
            proc = subprocess.run(
                [str(script), str(directory)],
                capture_output=True,
                text=True,
                timeout=START_TIMEOUT,
                env=_tools_env(),
                check=False,
            )
        except subprocess.TimeoutExpired:
            return None, f"{script.name} did not finish within {START_TIMEOUT:.0f} s"
        if proc.returncode == 0:
            break
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        failures.append(f"{script.name} exited {proc.returncode}:\n{tail}")
        time.sleep(RETRY_PAUSE_SECONDS)
    else:
        return None, "\n".join(failures)
    if failures:
        print(f"\n{script.name} succeeded on attempt {len(failures) + 1}; before that:\n" + failures[-1])
    found = _parse(proc.stdout)
    if "KUBECONFIG" not in found:
        return None, f"{script.name} printed no KUBECONFIG line:\n{proc.stdout[-2000:]}"
    kube = RealKube(
        kubeconfig=Path(found["KUBECONFIG"]),
        registry=found.get("REGISTRY"),
        has_node=with_node,
        started_seconds=round(time.monotonic() - began, 1),
    )
    return kube, ""


def _stop(directory: Path, with_node: bool) -> None:
    script = K8S_DIR / ("node-down" if with_node else "down")
    if script.is_file():  # absent when it could not start for want of ../shared/k8s
        subprocess.run(
            [str(script), str(directory), "--wipe"],
            capture_output=True,
            timeout=120,
            env=_tools_env(),
            check=False,
        )
    shutil.rmtree(directory, ignore_errors=True)


NODE_BRIDGE = Path("/sys/class/net/dtk8s0")  # node-up's bridge: one node per machine


def want_node() -> bool:
    return os.geteuid() == 0 and os.environ.get("DEPLOYTAG_TEST_NODE", "1") != "0"


def node_elsewhere() -> bool:
    """Another node-up already runs on this machine: a second would fight over its bridge."""
    return NODE_BRIDGE.exists()


@pytest.fixture(scope="session")
def real_kube_or_reason() -> Iterator[tuple[RealKube | None, str]]:
    given = os.environ.get("DEPLOYTAG_TEST_KUBECONFIG")
    if given:
        registry = os.environ.get("DEPLOYTAG_TEST_REGISTRY") or None
        yield (
            RealKube(
                kubeconfig=Path(given),
                registry=registry,
                has_node=registry is not None,
                context=os.environ.get("DEPLOYTAG_TEST_CONTEXT") or None,
            ),
            "",
        )
        return
    with_node = want_node()
    if with_node and node_elsewhere():
        # Only the control plane, then; tests that need the node say how to use the running one.
        print(f"\n{NODE_BRIDGE.name} exists: another node runs here; starting the control plane alone")
        with_node = False
    directory = Path(tempfile.mkdtemp(prefix="deploytag-k8s-"))
    kube, reason = _start(directory, with_node)
    try:
        if kube is not None:
            print(f"\nreal Kubernetes ({'node-up' if with_node else 'up'}) ready in {kube.started_seconds} s")
        yield kube, reason
    finally:
        _stop(directory, with_node)


@pytest.fixture(scope="session")
def real_kube(real_kube_or_reason: tuple[RealKube | None, str]) -> RealKube:
    """The session's real cluster; fails under CI when it cannot start."""
    kube, reason = real_kube_or_reason
    if kube is None:
        unavailable(reason)
    assert kube is not None
    return kube


@pytest.fixture(scope="session")
def real_node(real_kube: RealKube) -> RealKube:
    """The session's real cluster with a real node and its registry."""
    if not real_kube.has_node or not real_kube.registry:
        elsewhere = (
            "; a node already runs on this machine: point DEPLOYTAG_TEST_KUBECONFIG and "
            "DEPLOYTAG_TEST_REGISTRY at its cluster"
            if not os.environ.get("DEPLOYTAG_TEST_KUBECONFIG") and want_node() and node_elsewhere()
            else ""
        )
        unavailable(
            "this cluster has no node with a registry (node-up needs root; for a given cluster "
            f"set DEPLOYTAG_TEST_REGISTRY){elsewhere}"
        )
    return real_kube
