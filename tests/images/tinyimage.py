"""Push a tiny labelled image straight over the registry's HTTP API (no builder): for tests that
need images with given labels and build times under given tags, in a few milliseconds."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _request(method: str, url: str, data: bytes | None = None, ctype: str = "") -> tuple[str, str]:
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - the test's http registry
    if ctype:
        request.add_header("Content-Type", ctype)
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - as above
        return str(answer.headers.get("Location") or ""), str(
            answer.headers.get("Docker-Content-Digest") or ""
        )


def _blob(base: str, repo: str, data: bytes) -> str:
    digest = _digest(data)
    location, _ = _request("POST", f"{base}/{repo}/blobs/uploads/")
    if location.startswith("/"):
        location = base.removesuffix("/v2") + location
    joiner = "&" if "?" in location else "?"
    _request("PUT", f"{location}{joiner}digest={digest}", data, "application/octet-stream")
    return digest


def push_tiny_image(
    host: str, repo: str, tags: Sequence[str], *, labels: Mapping[str, str], created: str = ""
) -> str:
    """Push one image (one empty layer) under ``tags``; returns its manifest digest."""
    base = f"http://{host}/v2"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w"):
        pass
    layer = gzip.compress(raw.getvalue(), mtime=0)
    config_doc: dict[str, object] = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": dict(labels)},
        "rootfs": {"type": "layers", "diff_ids": [_digest(raw.getvalue())]},
    }
    if created:
        config_doc["created"] = created
    config = json.dumps(config_doc).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _blob(base, repo, config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": _blob(base, repo, layer),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    for tag in tags:
        _request("PUT", f"{base}/{repo}/manifests/{tag}", manifest, OCI_MANIFEST)
    return _digest(manifest)
