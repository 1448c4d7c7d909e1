"""Small app repositories on disk for `deploytag init`'s tests: only the files detection reads."""

from __future__ import annotations

from pathlib import Path

CHART_YAML = "apiVersion: v2\nname: demo\nversion: 0.1.0\n"


def make_repo(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (path -> text) under ``root``; an entry ending in '/' is an empty directory."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = root / rel
        if rel.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def chart(place: str = "chart") -> dict[str, str]:
    return {f"{place}/Chart.yaml": CHART_YAML, f"{place}/values.yaml": "replicaCount: 1\n"}
