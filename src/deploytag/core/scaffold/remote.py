"""The git remote's URL, reduced to host and path (credentials in it are dropped, never shown)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from deploytag.core.scaffold.facts import RemoteFacts

_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")  # git@github.com:owner/repo.git


def parse_remote(url: str) -> RemoteFacts | None:
    """``git@github.com:o/r.git``, ``https://github.com/o/r``, ``ssh://git@host:2222/g/p.git``;
    None for a local path or anything else without a host."""
    url = url.strip()
    if "://" in url:
        parts = urlsplit(url)
        host, path = parts.hostname or "", parts.path
        clean = f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"
    else:
        match = _SCP_LIKE.match(url)
        if match is None:
            return None
        host, path = match.group("host"), match.group("path")
        clean = f"{host}:{path}"
    path = path.strip("/").removesuffix(".git")
    if not host or "/" not in path:
        return None
    return RemoteFacts(url=clean, host=host.lower(), path=path)


def registry_for(remote: RemoteFacts | None, app: str) -> tuple[str, bool]:
    """The image repository to suggest, and whether it is a guess the user must change."""
    if remote is not None and remote.host == "github.com":
        return f"ghcr.io/{remote.path.lower()}", False
    if remote is not None and remote.host == "gitlab.com":
        return f"registry.gitlab.com/{remote.path.lower()}", False
    return f"registry.example.com/{app}", True
