"""The build context as a reproducible tar.gz (for kaniko's ``s3://`` context).

Only what the builder would send (after ``.dockerignore``), in sorted order with
fixed owners and times, so the same files give the same bytes and the same key.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

from deploytag.core.dockerignore import IgnoreMatcher, context_files


def context_tarball(context: Path, dockerfile: str) -> tuple[bytes, str]:
    """(tar.gz bytes, sha256 hex of them). ``dockerfile`` (relative) is always sent, as docker does."""
    files = context_files(context, IgnoreMatcher.for_context(context))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in sorted({*files, dockerfile}):
            info = tar.gettarinfo(str(context / rel), arcname=rel)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            info.mode = 0o755 if info.mode & 0o100 else 0o644
            if info.isfile():
                with (context / rel).open("rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    data = gzip.compress(raw.getvalue(), mtime=0)
    return data, hashlib.sha256(data).hexdigest()
