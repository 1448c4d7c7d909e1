"""helm's version, remembered per binary, so a run need not start helm to ask it.

`helm version` starts a 60 MB Go program: about 40 ms, a fifth of a no-op deploy, every
run, for an answer that only changes when the binary does. The answer is kept per binary,
keyed by its real path, size, modification time and inode: installing another helm, or
another version at the same path, changes the key. The file is
``<cache>/deploytag/helm-versions.json``, ``<cache>`` being ``$XDG_CACHE_HOME`` or
``~/.cache`` (where helm keeps its own cache). It holds no secret. A fresh machine (most
CI runners) has no entry and asks helm, as before; any problem reading or writing the
file only means asking helm.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

_FILE = "helm-versions.json"
_MAX_ENTRIES = 32  # a few helms per machine; an old entry is never read again


def cache_directory(environ: Mapping[str, str]) -> Path | None:
    """``$XDG_CACHE_HOME/deploytag``, else ``~/.cache/deploytag``; None without a home."""
    base = environ.get("XDG_CACHE_HOME") or (
        os.path.join(environ["HOME"], ".cache") if environ.get("HOME") else ""
    )
    return Path(base) / "deploytag" if base else None


class VersionCache:
    def __init__(self, *, directory: Path | None) -> None:
        self._directory = directory

    def get(self, binary: str) -> str | None:
        key = _key(binary)
        if key is None:
            return None
        found = self._read().get(key)
        return found if isinstance(found, str) else None

    def put(self, binary: str, version: str) -> None:
        key = _key(binary)
        if key is None or self._directory is None:
            return
        entries = {k: v for k, v in self._read().items() if isinstance(v, str) and k != key}
        kept = dict(list(entries.items())[-(_MAX_ENTRIES - 1) :])
        kept[key] = version
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            # Written whole and renamed: runs in parallel read the old file or the new one.
            with tempfile.NamedTemporaryFile(
                "w", dir=self._directory, prefix=".helm-versions.", delete=False, encoding="utf-8"
            ) as f:
                json.dump(kept, f)
            os.replace(f.name, self._directory / _FILE)
        except OSError:
            return

    def _read(self) -> dict[str, object]:
        if self._directory is None:
            return {}
        try:
            data = json.loads((self._directory / _FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}


def _key(binary: str) -> str | None:
    try:
        path = os.path.realpath(binary)
        st = os.stat(path)
    except OSError:
        return None
    return f"{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"
