"""The files around a helm call, read and written without running helm.

- Dependency freshness: whether charts/ already holds every dependency a chart
  declares, so ``helm dependency build`` (slow, and needing the network) runs
  only when it would change something.
- Render output: ``helm template`` output split into one file per template under
  a directory that a render only ever clears of its own previous render.
- Input checks: the chart and the values files exist, before helm is asked.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from deploytag.core import yamlio
from deploytag.core.errors import ChartError, ConfigError
from deploytag.core.values_layers import local_source
from deploytag.ports.helm import RenderedChart

# Marks a directory written by ``template`` so that clearing it never deletes anything else.
RENDER_MARKER = ".deploytag-rendered"
_UNSOURCED = "unsourced.yaml"


# --------------------------------------------------------------------------- dependencies


def dependencies_stale(chart: Path) -> str | None:
    """Why ``helm dependency build`` must run, or None when charts/ already holds every
    dependency: archives named by the lock file's versions, and archives of local
    (``file://``) dependencies newer than every file of their source."""
    meta = _yaml_file(chart / "Chart.yaml")
    lock_file = chart / "Chart.lock"
    deps = meta.get("dependencies")
    if not deps:
        deps = _yaml_file(chart / "requirements.yaml").get("dependencies")
        lock_file = chart / "requirements.lock"
    deps = [d for d in deps or [] if isinstance(d, dict)]
    fetched = [d for d in deps if d.get("repository")]
    for dep in deps:
        if not dep.get("repository"):
            # Vendored by hand: helm cannot fetch it, so only its presence matters.
            reason = _archive_stale(chart, name=str(dep.get("name", "")), repository="", version="")
            if reason:
                return reason
    if not fetched:
        return None
    if not lock_file.is_file():
        return f"{lock_file.name} is missing"
    unused = [e for e in _yaml_file(lock_file).get("dependencies") or [] if isinstance(e, dict)]
    for dep in fetched:
        name, repository = str(dep.get("name", "")), str(dep.get("repository"))
        lock = next((e for e in unused if e.get("name") == name and e.get("repository") == repository), None)
        if lock is None:
            return f"{lock_file.name} does not list {name} from {repository}"
        unused.remove(lock)
        wanted = str(dep.get("version", ""))
        if _EXACT_VERSION.match(wanted) and wanted.lstrip("v") != str(lock.get("version", "")).lstrip("v"):
            return f"{name} {wanted} is locked at {lock.get('version')}"
        reason = _archive_stale(chart, name=name, repository=repository, version=str(lock.get("version", "")))
        if reason:
            return reason
    return None


_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$")


def _archive_stale(chart: Path, *, name: str, repository: str, version: str) -> str | None:
    charts = chart / "charts"
    source = local_source(chart, repository)
    if source is not None:
        local_version = _yaml_file(source / "Chart.yaml").get("version")
        archive = charts / f"{name}-{local_version}.tgz"
        if not archive.is_file():
            return f"charts/{archive.name} is missing"
        if _newest_mtime(source) > archive.stat().st_mtime:
            return f"{source} changed since charts/{archive.name} was built"
        return None
    if not repository:
        # No repository: the chart must be vendored in charts/ already; helm cannot fetch it.
        present = (charts / name / "Chart.yaml").is_file() or any(charts.glob(f"{name}-*.tgz"))
        return None if present else f"charts/{name} is missing"
    vendored = _yaml_file(charts / name / "Chart.yaml").get("version")
    if (charts / f"{name}-{version}.tgz").is_file() or str(vendored) == version:
        return None
    return f"charts/{name}-{version}.tgz is missing"


def _newest_mtime(directory: Path) -> float:
    newest = 0.0
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in [*files, *dirs]:
            try:
                newest = max(newest, os.stat(os.path.join(root, name)).st_mtime)
            except FileNotFoundError:
                continue
    return newest


def _yaml_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except (OSError, yaml.YAMLError) as e:
        raise ChartError(
            f"cannot read {path}: {e}", hint=f"fix it, then run `helm lint {path.parent}`"
        ) from e
    return data if isinstance(data, dict) else {}


# --------------------------------------------------------------------------- rendering output


def split_manifests(text: str) -> list[tuple[str, str]]:
    """``helm template`` output as (source path, document) pairs, in order."""
    docs: list[tuple[str, str]] = []
    for doc in re.split(r"^---[ \t]*$", text, flags=re.MULTILINE):
        if not doc.strip():
            continue
        match = re.search(r"^# Source: (.+?)\s*$", doc, flags=re.MULTILINE)
        docs.append((match.group(1) if match else _UNSOURCED, doc.strip("\n") + "\n"))
    return docs


def write_manifests(text: str, output_dir: Path) -> RenderedChart:
    """One file per template under ``output_dir`` (``<chart>/templates/x.yaml``),
    documents from the same template appended to one file; the directory is
    cleared of a previous render first."""
    _clear_render_dir(output_dir)
    files: list[Path] = []
    manifests: list[Mapping[str, Any]] = []
    sources: list[Path] = []
    for source, doc in split_manifests(text):
        try:
            # libyaml's parser when present: a chart's output is parsed on every plan and deploy.
            parsed = [m for m in yamlio.load_all(doc) if m is not None]
        except yaml.YAMLError as e:
            raise ChartError(
                f"{source} rendered invalid YAML: {e}", hint="run `helm lint` on the chart"
            ) from e
        if not parsed:
            continue
        path = output_dir / _safe_relative(source)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path in files:
            with path.open("a", encoding="utf-8") as f:
                f.write("---\n" + doc)
        else:
            path.write_text(doc, encoding="utf-8")
            files.append(path)
        kept = [m for m in parsed if isinstance(m, Mapping)]
        manifests.extend(kept)
        sources.extend([path] * len(kept))
    return RenderedChart(directory=output_dir, files=files, manifests=manifests, sources=sources)


def check_render_dir(output_dir: Path) -> list[Path]:
    """What a render may clear from ``output_dir``: only a previous render's files."""
    if not output_dir.exists():
        return []
    if not output_dir.is_dir():
        raise ChartError(f"{output_dir} is not a directory", hint="choose another output directory")
    contents = list(output_dir.iterdir())
    if contents and not (output_dir / RENDER_MARKER).is_file():
        raise ChartError(
            f"refusing to clear {output_dir}: it holds files deploytag render did not write",
            hint="render into an empty or new directory",
        )
    return contents


def _clear_render_dir(output_dir: Path) -> None:
    if output_dir.exists():
        for entry in check_render_dir(output_dir):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / RENDER_MARKER).write_text("written by deploytag render; cleared on every render\n")


def _safe_relative(source: str) -> PurePosixPath:
    path = PurePosixPath(source)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ChartError(
            f"helm reported an unexpected source path {source!r}", hint="check the chart's templates"
        )
    return path


# --------------------------------------------------------------------------- inputs


def require_chart(chart: Path) -> None:
    if not (chart / "Chart.yaml").is_file():
        raise ChartError(
            f"no chart at {chart}: Chart.yaml is missing",
            hint="set chart.path in deploytag.yaml to the directory holding Chart.yaml, then run `helm lint` on it",
        )


def require_files(paths: Iterable[Path]) -> None:
    for path in paths:
        if not path.is_file():
            raise ConfigError(
                f"values file {path} not found",
                hint="check chart.values and chart.environments in deploytag.yaml",
            )
