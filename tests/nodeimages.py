"""Images the real node runs, built offline: a Debian root file system with Python and Redis.

Nothing can be pulled from the internet, so the example's ``python:3.12-slim`` and
``redis:7.2.5-alpine`` cannot be used. Instead ``mmdebstrap`` builds a minimal Debian
bookworm root file system from Debian packages (through apt's mirror), buildah imports
it as a single-layer image and pushes it to the node's registry:

- python3 and python3-psycopg: the guestbook app (standard library only) and migrate.py (psycopg 3);
  python-is-python3 so the example's ``python ...`` commands work as written;
- redis-server (with redis-cli): the chart's Redis subchart runs ``redis-server``, and its
  readiness probe ``sh -c "redis-cli ... ping"``.

The tag is a hash of the package list and suite, so a registry that has it already (the node
outlives a test session) is not built again: ``ensure_runtime_image`` returns at once.

    python -m tests.nodeimages --registry HOST:PORT [--dir D]

prints the image reference (building and pushing it first when the registry lacks it).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

SUITE = "bookworm"
PACKAGES = ("python3", "python3-psycopg", "python-is-python3", "redis-server", "ca-certificates")
REPOSITORY = "deploytag-test/debian-python"
# Documentation, manual pages and translations are not needed to run anything.
EXCLUDES = ("/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*", "/usr/share/info/*")


@dataclass(frozen=True)
class RuntimeImage:
    reference: str  # host:port/deploytag-test/debian-python:<hash>
    built: bool  # False when the registry had it already
    seconds: float  # build + push time (0 when cached)

    @property
    def repository(self) -> str:
        return self.reference.rsplit(":", 1)[0]

    @property
    def tag(self) -> str:
        return self.reference.rsplit(":", 1)[1]


def missing() -> str | None:
    for tool, package in (("mmdebstrap", "mmdebstrap"), ("buildah", "buildah")):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install {package})"
    return None


def tag() -> str:
    return hashlib.sha256(f"{SUITE} {' '.join(sorted(PACKAGES))}".encode()).hexdigest()[:12]


def in_registry(registry: str, repository: str, image_tag: str) -> bool:
    request = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{image_tag}",
        method="HEAD",
        headers={
            "Accept": "application/vnd.oci.image.manifest.v1+json, "
            "application/vnd.docker.distribution.manifest.v2+json"
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310  (the node's loopback registry)
            return True
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return False
        raise


def buildah_args(directory: Path) -> list[str]:
    return ["buildah", "--root", str(directory / "root"), "--runroot", str(directory / "run")]


def _run(argv: list[str]) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise RuntimeError(
            f"{argv[0]} {argv[1] if len(argv) > 1 else ''} failed ({proc.returncode}):\n{tail}"
        )
    return proc.stdout.strip()


def build(directory: Path, reference: str) -> None:
    """mmdebstrap -> tar -> buildah (FROM scratch, one layer) -> push to the registry."""
    directory.mkdir(parents=True, exist_ok=True)
    rootfs = directory / "rootfs.tar"
    _run(
        [
            "mmdebstrap",
            "--variant=essential",
            f"--include={','.join(PACKAGES)}",
            *(f"--dpkgopt=path-exclude={pattern}" for pattern in EXCLUDES),
            "--aptopt=APT::Install-Recommends false",
            SUITE,
            str(rootfs),
        ]
    )
    buildah = buildah_args(directory)
    container = _run([*buildah, "from", "scratch"])
    try:
        _run([*buildah, "add", container, str(rootfs), "/"])
        _run(
            [
                *buildah,
                "config",
                "--env",
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--env",
                "PYTHONDONTWRITEBYTECODE=1",
                "--env",
                "PYTHONUNBUFFERED=1",
                "--cmd",
                "python3",
                container,
            ]
        )
        _run([*buildah, "commit", "--rm", container, reference])
    except Exception:
        subprocess.run([*buildah, "rm", container], capture_output=True, check=False)
        raise
    _run([*buildah, "push", "--tls-verify=false", reference, f"docker://{reference}"])
    rootfs.unlink(missing_ok=True)


def ensure_runtime_image(registry: str, directory: Path) -> RuntimeImage:
    reference = f"{registry}/{REPOSITORY}:{tag()}"
    if in_registry(registry, REPOSITORY, tag()):
        return RuntimeImage(reference=reference, built=False, seconds=0.0)
    began = time.monotonic()
    build(directory, reference)
    return RuntimeImage(reference=reference, built=True, seconds=round(time.monotonic() - began, 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests.nodeimages", description=__doc__)
    parser.add_argument("--registry", required=True, help="host:port of the node's registry (plain HTTP)")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/deploytag-nodeimages"), help="build directory")
    args = parser.parse_args(argv)
    reason = missing()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    image = ensure_runtime_image(args.registry, args.dir)
    how = f"built and pushed in {image.seconds} s" if image.built else "already in the registry"
    print(f"{image.reference}", flush=True)
    print(f"nodeimages: {how}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
