"""buildah with private storage, and a tiny base image made from busybox-static.

Nothing is pulled from the internet: the base is ``FROM scratch`` plus
/bin/busybox and its applet links, pushed to a local registry.

    python -m tests.servers.buildah --dir D --registry HOST

builds that base, pushes it as HOST/tiny-base:1 and prints the reference and the
DEPLOYTAG_BUILD__* settings that make DeployTag use the same storage.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from pathlib import Path

BUILDAH = shutil.which("buildah")
BUSYBOX = Path("/bin/busybox")
BASE_DOCKERFILE = 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n'


def missing() -> str | None:
    if BUILDAH is None:
        return "buildah is not installed (apt-get install buildah)"
    if not BUSYBOX.is_file():
        return "busybox-static is not installed (apt-get install busybox-static)"
    return None


def storage(directory: Path) -> dict[str, str]:
    """DEPLOYTAG_* settings for buildah storage under ``directory`` (vfs works everywhere)."""
    return {
        "DEPLOYTAG_BUILD__BUILDAH_ROOT": str(directory / "root"),
        "DEPLOYTAG_BUILD__BUILDAH_RUNROOT": str(directory / "run"),
        "DEPLOYTAG_BUILD__STORAGE_DRIVER": "vfs",
        "DEPLOYTAG_BUILD__ISOLATION": "chroot",
    }


def global_args(directory: Path) -> list[str]:
    return ["--root", str(directory / "root"), "--runroot", str(directory / "run"), "--storage-driver", "vfs"]


def tiny_base(directory: Path, registry_host: str, name: str = "tiny-base:1") -> str:
    """Build the busybox base and push it to the registry; returns its reference."""
    assert BUILDAH is not None
    context = directory / "tiny-base"
    context.mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, context / "busybox")
    (context / "Dockerfile").write_text(BASE_DOCKERFILE)
    reference = f"{registry_host}/{name}"
    buildah = [BUILDAH, *global_args(directory)]
    subprocess.run(
        [*buildah, "bud", "--isolation", "chroot", "-t", reference, str(context)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*buildah, "push", "--tls-verify=false", reference, f"docker://{reference}"],
        check=True,
        capture_output=True,
    )
    return reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--registry", required=True, help="host:port of a registry (tests.servers.registry)")
    args = parser.parse_args()
    reason = missing()
    if reason:
        raise SystemExit(reason)
    reference = tiny_base(args.dir, args.registry)
    print(json.dumps({"base": reference, "env": storage(args.dir)}))


if __name__ == "__main__":
    main()
