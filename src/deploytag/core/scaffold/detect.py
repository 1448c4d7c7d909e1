"""Find a Helm chart, values files, Dockerfiles and secret ids in an app repository.

Reading only: nothing here writes, runs a program or reaches the network. The test command
and migrations are found by ``commands``; the remote is parsed by ``remote``.
"""

from __future__ import annotations

import re
from pathlib import Path

from deploytag.core import yamlio
from deploytag.core.errors import ChartError
from deploytag.core.scaffold import commands
from deploytag.core.scaffold.facts import ImageFacts, RemoteFacts, RepoFacts

CHART_PLACES = ("chart/", "charts/*/", "helm/")
"""Where a chart is looked for, in this order (each holding a Chart.yaml)."""

# Values files named values-<env>.yaml (or values.<env>.yaml) in these directories.
VALUES_DIRS = ("deploy", "values", ".")
COMMON_VALUES = ("common", "shared", "base", "default", "all")
_VALUES_NAME = re.compile(r"^values[-._]([a-z0-9][a-z0-9_-]*)\.ya?ml$")

# Directories never searched for Dockerfiles: dependencies, VCS, build output.
# Dockerfile.<suffix> that are not deployed images: the base, and development-only ones.
_NOT_IMAGES = {"base", "dockerignore", "dev", "local", "test", "ci"}
_SKIP_DIRS = {"node_modules", "vendor", ".git", ".venv", "venv", "dist", "build", "tests", "test"}


def detect(root: Path, *, remote: RemoteFacts | None = None, app: str | None = None) -> RepoFacts:
    """What ``root`` holds; raises ChartError (nothing written by anyone) when it has no chart."""
    charts = find_charts(root)
    if not charts:
        raise ChartError(
            f"no Helm chart in {root}: looked for {', '.join(p + 'Chart.yaml' for p in CHART_PLACES)}",
            hint="add one (helm create chart) and run deploytag init again",
        )
    values, environment_values = find_values(root, charts[0])
    tests = commands.find_tests(root)
    migrations = commands.find_migrations(root)
    engine, engine_reason = commands.find_database_engine(root)
    if engine is None and migrations is not None:
        engine, engine_reason = "postgres", "a guess: no file names a driver"
    return RepoFacts(
        root=root,
        app=app_name(app or (remote.name if remote else None) or root.resolve().name),
        chart=charts[0],
        other_charts=tuple(charts[1:]),
        values=values,
        environment_values=environment_values,
        images=find_images(root, charts),
        test=tests[0] if tests else None,
        other_tests=tuple(tests[1:]),
        migrations=migrations,
        database_engine=engine,
        engine_reason=engine_reason,
        secret_ids=find_secret_ids(root),
        remote=remote,
    )


def app_name(raw: str) -> str:
    """A name the schema accepts: a lowercase DNS label of at most 30 characters, no '--'."""
    name = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9]+", "-", raw.lower())).strip("-")
    return name[:30].rstrip("-") or "app"


def find_charts(root: Path) -> list[Path]:
    """Chart directories relative to ``root``, in CHART_PLACES order."""
    found: list[Path] = []
    for place in CHART_PLACES:
        pattern = place.rstrip("/")
        candidates = sorted(root.glob(pattern)) if "*" in pattern else [root / pattern]
        found.extend(c.relative_to(root) for c in candidates if (c / "Chart.yaml").is_file())
    return found


def find_values(root: Path, chart: Path) -> tuple[tuple[Path, ...], dict[str, tuple[Path, ...]]]:
    """Common values files and per-environment ones (``values-preview.yaml`` -> preview)."""
    common: list[Path] = []
    per_env: dict[str, list[Path]] = {}
    for directory in (*VALUES_DIRS, str(chart)):
        base = root / directory
        if not base.is_dir():
            continue
        for path in sorted(base.iterdir()):
            match = _VALUES_NAME.match(path.name)
            if not match or not path.is_file():
                continue
            rel = path.relative_to(root)
            name = match.group(1)
            if name in COMMON_VALUES:
                common.append(rel)
            else:
                per_env.setdefault(name, []).append(rel)
    return tuple(common), {k: tuple(v) for k, v in sorted(per_env.items())}


def find_images(root: Path, charts: list[Path]) -> tuple[ImageFacts, ...]:
    """``Dockerfile`` at the top (image ``app``), ``Dockerfile.<name>`` beside it and
    ``<dir>/Dockerfile`` one level down (image ``<name>``/``<dir>``); each with its
    ``Dockerfile.base`` when one is there."""
    images: list[ImageFacts] = []
    chart_dirs = {c.parts[0] for c in charts}
    top = root / "Dockerfile"
    if top.is_file():
        images.append(_image("app", Path("Dockerfile"), root))
    for path in sorted(root.glob("Dockerfile.*")):
        suffix = path.name.split(".", 1)[1]
        if path.is_file() and suffix not in _NOT_IMAGES and re.fullmatch(r"[a-z0-9-]+", suffix):
            images.append(_image(suffix, Path(path.name), root, context=Path(".")))
    for path in sorted(root.glob("*/Dockerfile")):
        directory = path.parent.name
        if directory in _SKIP_DIRS or directory in chart_dirs or directory.startswith("."):
            continue
        images.append(_image(app_name(directory), Path(directory) / "Dockerfile", root))
    names = [i.name for i in images]
    return tuple(i for n, i in enumerate(images) if i.name not in names[:n])


def _image(name: str, dockerfile: Path, root: Path, *, context: Path | None = None) -> ImageFacts:
    base = dockerfile.parent / "Dockerfile.base"
    return ImageFacts(
        name=name,
        dockerfile=dockerfile,
        base_dockerfile=base if (root / base).is_file() else None,
        context=context if context is not None else dockerfile.parent,
    )


def find_secret_ids(root: Path) -> tuple[str, ...]:
    """The ids in ``secrets.local.yaml`` (the file store's default): keys only, values unread."""
    path = root / "secrets.local.yaml"
    if not path.is_file():
        return ()
    try:
        data = yamlio.load(path.read_text(encoding="utf-8"))
    except Exception:  # a broken file is the secrets step's to report, not init's
        return ()
    return tuple(str(k) for k in data) if isinstance(data, dict) else ()
