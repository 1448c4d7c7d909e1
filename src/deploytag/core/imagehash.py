"""The base image's content hash: its tag, so the registry answers "build or not".

Hashed: a format marker, the Dockerfile's bytes, the resolved build args, and for
every context file a COPY/ADD reads (after .dockerignore) its relative path,
whether it is executable and its bytes (or a symlink's target). Modes other than
the executable bit depend on the umask of the checkout, so they are left out and
the hash is the same on every machine with the same commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path

import msgspec

from deploytag.core.dockerfile import DockerfileError, parse
from deploytag.core.dockerignore import IgnoreMatcher, context_files, glob_regex

FORMAT = b"deploytag-base/v1\0"
TAG_LENGTH = 32  # hex characters of sha256: collision-free in practice, short enough to read


class ContentHash(msgspec.Struct, frozen=True):
    digest: str  # full sha256 hex
    files: tuple[str, ...]  # context files that went into it
    build_args: Mapping[str, str]

    @property
    def tag(self) -> str:
        return self.digest[:TAG_LENGTH]


def resolve_args(defaults: Mapping[str, str | None], given: Mapping[str, str]) -> dict[str, str]:
    """The ARGs the Dockerfile declares, with the values this build gives them."""
    out = {k: v for k, v in defaults.items() if v is not None}
    out.update({k: v for k, v in given.items() if k in defaults})
    return dict(sorted(out.items()))


def read_dockerfile(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as e:
        raise DockerfileError(
            f"{path} does not exist",
            hint="create it, or set images.<name>.base_dockerfile to null for images without a base",
        ) from e
    except OSError as e:
        raise DockerfileError(f"cannot read {path}: {e.strerror}", hint="check its permissions") from e


def content_hash(*, context: Path, dockerfile: Path, build_args: Mapping[str, str]) -> ContentHash:
    data = read_dockerfile(dockerfile)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DockerfileError(f"{dockerfile} is not UTF-8 text", hint="save it as UTF-8") from e
    parsed = parse(text, name=dockerfile.name)
    args = resolve_args(parsed.arg_defaults(), build_args)
    sources = parsed.context_sources(args)
    files = matched_files(context, sources) if sources else []
    h = hashlib.sha256(FORMAT)
    h.update(len(data).to_bytes(8, "big") + data)
    h.update(json.dumps(args, sort_keys=True).encode() + b"\0")
    for rel in files:
        _hash_file(h, context, rel)
    return ContentHash(digest=h.hexdigest(), files=tuple(files), build_args=args)


def matched_files(context: Path, sources: list[str]) -> list[str]:
    """Context files the sources name (globs, directories, '.'), after .dockerignore."""
    available = context_files(context, IgnoreMatcher.for_context(context))
    chosen: set[str] = set()
    for source in sources:
        clean = os.path.normpath(source).replace(os.sep, "/").lstrip("/")
        if clean in (".", ""):
            chosen.update(available)
            continue
        regex = glob_regex(clean, double_star=False)
        hits = {f for f in available if any(regex.match(p) for p in _self_and_parents(f))}
        if not hits:
            raise DockerfileError(
                f"COPY/ADD source {source!r} matches no file in {context} (after .dockerignore)",
                hint="fix the path, or remove it from .dockerignore",
            )
        chosen.update(hits)
    return sorted(chosen)


def _self_and_parents(rel: str) -> list[str]:
    parts = rel.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _hash_file(h: hashlib._Hash, context: Path, rel: str) -> None:
    path = context / rel
    st = path.lstat()
    name = rel.encode()
    h.update(len(name).to_bytes(4, "big") + name)
    if stat.S_ISLNK(st.st_mode):
        body = os.readlink(path).encode()
        kind = b"l"
    else:
        body = path.read_bytes()
        kind = b"x" if st.st_mode & 0o111 else b"f"
    h.update(kind + len(body).to_bytes(8, "big"))
    h.update(body)
