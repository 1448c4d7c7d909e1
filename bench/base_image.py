"""Base-image decision and a build with the base cached vs one that builds it.

1. The decision on the example: content hash of Dockerfile.base (and what it
   COPYs) plus one HEAD on the registry, in process. Target <= 0.2 s.
2. `deploytag build` (base + app image, real buildah, real local registry) with
   the base already in the registry against one that has to build it; the app
   image is rebuilt in both. The ratio is what caching the base saves; the
   sandbox base is tiny, so real bases (apt-get, pip) save far more. Also: a
   build with nothing changed (both images found in the registry).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _util import ROOT, VENV_BIN, env

sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

from deploytag.adapters.images.registry_auth import NoCredentials
from deploytag.adapters.images.registry_v2 import RegistryV2
from deploytag.capabilities.imagebuild import plan_base
from deploytag.core.config import load_config
from servers import buildah as buildah_server
from servers.registry import LocalRegistry

TARGET_SECONDS = 0.2


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    reason = buildah_server.missing()
    with tempfile.TemporaryDirectory() as tmp, LocalRegistry(Path(tmp) / "registry") as reg:
        repo = Path(tmp) / "guestbook"
        shutil.copytree(ROOT / "examples" / "guestbook", repo, ignore=shutil.ignore_patterns(".deploytag"))
        overrides = {
            "DEPLOYTAG_IMAGES__APP__REPOSITORY": f"{reg.host}/guestbook",
            "DEPLOYTAG_IMAGES__APP__BASE_DOCKERFILE": "sandbox/Dockerfile.base",
        }
        decision(repo, reg, overrides, runs)
        if reason:
            print(f"build with base cached vs built: skipped ({reason})")
            return
        storage = Path(tmp) / "buildah"
        base = buildah_server.tiny_base(storage, reg.host)
        overrides |= buildah_server.storage(storage) | {
            "DEPLOYTAG_BUILD__ARGS": json.dumps({"PYTHON_IMAGE": base})
        }
        pipeline(repo, reg, overrides, runs)


def decision(repo: Path, reg: LocalRegistry, overrides: dict[str, str], runs: int) -> None:
    loaded = load_config(repo=repo, environ=overrides)
    image = loaded.config.images["app"]
    registry = RegistryV2(credentials=NoCredentials(), insecure_hosts=["127.0.0.1"])
    samples = []
    for _ in range(runs * 4 + 1):
        started = time.perf_counter()
        plan = plan_base(loaded, image)
        assert plan is not None
        registry.manifest_digest(repository=plan.repository, tag=plan.tag)
        samples.append(time.perf_counter() - started)
    seconds = statistics.median(samples[1:])
    print(
        f"{'base-image decision (hash+HEAD)':<32} {seconds * 1000:8.1f} ms   "
        f"target {TARGET_SECONDS * 1000:.0f} ms   ratio to target {seconds / TARGET_SECONDS:5.3f}x   "
        f"({plan.files} files hashed)"
    )


def pipeline(repo: Path, reg: LocalRegistry, overrides: dict[str, str], runs: int) -> None:
    argv = [
        str(VENV_BIN / "deploytag"),
        "--repo",
        str(repo),
        "build",
        "--branch",
        "feature/bench",
        "--commit",
        "0" * 40,
    ]
    stamp = (
        repo / "guestbook" / "bench_stamp.txt"
    )  # copied by the app Dockerfile: the app is rebuilt each run
    counter = iter(range(1_000_000))

    def timed(base_repository: str, *, change_app: bool = True) -> float:
        if change_app:
            stamp.write_text(f"{next(counter)}\n")
        extra = {"DEPLOYTAG_IMAGES__APP__BASE_REPOSITORY": f"{reg.host}/{base_repository}"}
        started = time.perf_counter()
        subprocess.run(argv, env={**env(), **overrides, **extra}, check=True, capture_output=True)
        return time.perf_counter() - started

    built = [timed(f"bench-base-{i}") for i in range(runs)]  # a new base repository: the registry lacks it
    cached = [timed("bench-base-0") for _ in range(runs)]
    noop = [timed("bench-base-0", change_app=False) for _ in range(runs)]
    ours, ref = statistics.median(cached), statistics.median(built)
    print(
        f"{'build, base cached vs built':<32} {ours * 1000:8.1f} ms   base built {ref * 1000:8.1f} ms   "
        f"ratio {ours / ref:5.2f}x   target < 1x"
    )
    print(f"{'build, nothing changed':<32} {statistics.median(noop) * 1000:8.1f} ms   (no build, no push)")


if __name__ == "__main__":
    main()
