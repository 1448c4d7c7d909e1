"""Images for the real node's registry, pushed over the registry's HTTP API (pytest plugin).

Nothing can be pulled from the internet, and node-up builds only ``pause:1``, whose entrypoint
ignores arguments. The tests need a few more, all the host's busybox-static in one layer,
differing only in their default command: one without an entrypoint (a Job passes ``args``, as
kaniko's does), one that keeps running (an app that becomes ready) under two tags, a web server
that answers readiness probes, and one that crashes (a crash loop). The distribution v2 API takes them in four requests each; no builder is
needed, so this costs well under a second per session.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from realkube import RealKube

BUSYBOX = Path("/bin/busybox")
FOREVER = ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait; done"]
CRASH = ["sh", "-c", "echo crashing; exit 3"]
# busybox httpd on 8080 answering /healthz (readiness probes); sh as PID 1 stops at TERM
WEB = [
    "sh",
    "-c",
    "mkdir -p /tmp/www && echo ok > /tmp/www/healthz && trap 'exit 0' TERM INT; "
    "httpd -f -p 8080 -h /tmp/www & wait",
]
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@dataclass(frozen=True)
class NodeImages:
    """References the node can pull (and one it cannot)."""

    busybox: str  # no entrypoint, CMD sh: give it a command or args
    app: str  # repository of an app that runs until stopped; tags 1.0.0 and 1.0.1
    web: str  # repository of an HTTP server on 8080 (GET /healthz), tags 1.27 and 1.28
    crashloop: str  # exits 3 at once, every time
    missing: str  # a tag the registry does not have
    pause: str  # node-up's sandbox image: busybox whose entrypoint sleeps and ignores arguments

    def app_tag(self, tag: str) -> str:
        return f"{self.app}:{tag}"


def _layer() -> bytes:
    """bin/busybox and a symlink per applet, gzipped tar."""
    applets = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True).stdout
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for directory in ("bin", "tmp"):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if directory == "tmp" else 0o755
            tar.addfile(info)
        tar.add(str(BUSYBOX), arcname="bin/busybox")
        for applet in applets.split():
            if applet != "busybox":
                link = tarfile.TarInfo(f"bin/{applet}")
                link.type, link.linkname = tarfile.SYMTYPE, "busybox"
                tar.addfile(link)
    return raw.getvalue()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class _Registry:
    def __init__(self, host: str) -> None:
        self.base = f"http://{host}/v2"

    def _request(self, method: str, url: str, data: bytes | None = None, ctype: str = "") -> str:
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - the node's http:// registry
        if ctype:
            request.add_header("Content-Type", ctype)
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - as above
            return str(answer.headers.get("Location") or "")

    def blob(self, repo: str, data: bytes) -> str:
        digest = _digest(data)
        try:
            self._request("HEAD", f"{self.base}/{repo}/blobs/{digest}")
            return digest
        except urllib.error.HTTPError:
            pass
        location = self._request("POST", f"{self.base}/{repo}/blobs/uploads/")
        if location.startswith("/"):
            location = self.base.removesuffix("/v2") + location
        joiner = "&" if "?" in location else "?"
        self._request("PUT", f"{location}{joiner}digest={digest}", data, "application/octet-stream")
        return digest

    def image(self, repo: str, tags: Sequence[str], layer: bytes, diff_id: str, cmd: list[str]) -> None:
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {"Cmd": cmd, "Env": ["PATH=/bin"]},
                "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            }
        ).encode()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": self.blob(repo, config),
                    "size": len(config),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": self.blob(repo, layer),
                        "size": len(layer),
                    }
                ],
            }
        ).encode()
        for tag in tags:
            self._request("PUT", f"{self.base}/{repo}/manifests/{tag}", manifest, OCI_MANIFEST)


def push_test_images(registry: str) -> NodeImages:
    raw = _layer()
    layer, diff_id = gzip.compress(raw, mtime=0), _digest(raw)
    to = _Registry(registry)
    to.image("deploytag-test/busybox", ["1"], layer, diff_id, ["sh"])
    to.image("deploytag-test/app", ["1.0.0", "1.0.1"], layer, diff_id, FOREVER)
    to.image("deploytag-test/app", ["crashloop"], layer, diff_id, CRASH)
    to.image("deploytag-test/web", ["1.27", "1.28"], layer, diff_id, WEB)
    return NodeImages(
        busybox=f"{registry}/deploytag-test/busybox:1",
        app=f"{registry}/deploytag-test/app",
        web=f"{registry}/deploytag-test/web",
        crashloop=f"{registry}/deploytag-test/app:crashloop",
        missing=f"{registry}/deploytag-test/app:missing",
        pause=f"{registry}/pause:1",
    )


@pytest.fixture(scope="session")
def real_images(real_node: RealKube) -> NodeImages:
    """The test images, in the registry of the session's real node."""
    assert real_node.registry
    return push_test_images(real_node.registry)
