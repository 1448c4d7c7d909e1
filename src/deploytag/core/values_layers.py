"""Values layers: what one is, and reading each kind from where it comes from.

A layer is a values file (``-f``), the values DeployTag injects, ``--set``, or the
defaults of the chart or one of its subcharts. Reading is pure: the chart's
values.yaml and its vendored subcharts (directories or .tgz under charts/) are
read here, YAML as Helm reads it, but helm never runs. How layers combine is
``values_merge``'s business.
"""

from __future__ import annotations

import copy
import io
import re
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec
import yaml

from deploytag.core.errors import ChartError, ConfigError
from deploytag.core.values_set import format_path, parse_set

LayerKind = Literal["chart", "subchart", "file", "injected", "set"]
# Layers helm reads from the chart itself: never handed to helm, coalesced under user values.
CHART_KINDS = frozenset({"chart", "subchart"})


class ValuesLayer(msgspec.Struct, frozen=True):
    """One source of values. ``data`` is always the full tree: a subchart's
    defaults are nested under ``scope``, the key path they apply to."""

    name: str
    kind: LayerKind
    source: str
    data: dict[str, Any]
    scope: tuple[str, ...] = ()
    condition: str = ""  # subchart: Chart.yaml dependency condition, comma-separated paths
    tags: tuple[str, ...] = ()  # subchart: Chart.yaml dependency tags


class LayerRef(msgspec.Struct, frozen=True):
    name: str
    kind: LayerKind
    source: str


class ValueOrigin(msgspec.Struct, frozen=True):
    """The layer that set a leaf's final value and the layers whose value it replaced."""

    layer: LayerRef
    overridden: tuple[LayerRef, ...] = ()
    masked: bool = False


class ExplainedValues(msgspec.Struct, frozen=True):
    merged: dict[str, Any]  # what the chart sees as .Values
    origins: dict[str, ValueOrigin]  # leaf path (``image.tag``) -> origin
    removed: dict[str, ValueOrigin] = msgspec.field(default_factory=dict)  # deleted by a null -> who did it


# --------------------------------------------------------------------------- YAML as Helm reads it


# libyaml's parser when PyYAML was built with it (the wheels are): values files and
# charts are read on every plan and deploy. Construction and resolution stay in Python,
# so the Helm-specific rules below apply to both.
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _HelmYamlLoader(_BaseLoader):  # type: ignore[misc]
    """YAML 1.1 as Go's yaml.v2 reads values: ``y``/``n`` are booleans too, and
    timestamps stay strings (Helm's JSON round trip turns them into strings)."""

    bool_values = {**yaml.SafeLoader.bool_values, "y": True, "n": False}

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # Keys become strings as they are read (as Go's YAML-to-JSON does), so `1:` and `y:`
        # stay two keys instead of colliding as Python's 1 == True.
        self.flatten_mapping(node)
        return {
            _key(self.construct_object(k, deep=deep)): self.construct_object(v, deep=deep)
            for k, v in node.value
        }


_HelmYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_HelmYamlLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN"))


def local_source(chart: Path, repository: str) -> Path | None:
    """The source directory of a ``file://`` dependency of ``chart``; None for any other repository.

    Helm resolves the path relative to the chart directory.
    """
    if not repository.startswith("file://"):
        return None
    return (chart / repository[len("file://") :]).resolve()


def load_values_yaml(text: str | bytes) -> dict[str, Any]:
    """A values document as Helm reads it; raises yaml.YAMLError or ValueError."""
    data = yaml.load(text, Loader=_HelmYamlLoader)  # noqa: S506 - a SafeLoader subclass
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("the top level must be a mapping")
    result = _normalise(data)
    assert isinstance(result, dict)
    return result


def _normalise(value: Any) -> Any:
    """Map keys as Go's YAML-to-JSON conversion spells them (true, 1, null)."""
    if isinstance(value, Mapping):
        return {_key(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


# --------------------------------------------------------------------------- building layers


def file_layer(path: Path, *, name: str | None = None) -> ValuesLayer:
    """A values file given with ``-f`` (an environment's values file)."""
    try:
        data = load_values_yaml(path.read_bytes())
    except OSError as e:
        raise ConfigError(
            f"cannot read values file {path}: {e.strerror}",
            hint="check chart.values / chart.environments in deploytag.yaml",
        ) from e
    except (yaml.YAMLError, ValueError) as e:
        raise ConfigError(f"values file {path}: {_yaml_problem(e)}", hint="fix the YAML in that file") from e
    return ValuesLayer(name=name or str(path), kind="file", source=str(path), data=data)


def injected_layer(values: Mapping[str, Any], *, name: str = "deploytag") -> ValuesLayer:
    """Values DeployTag injects (image, secret name, host ...)."""
    data = _normalise(copy.deepcopy(dict(values)))
    return ValuesLayer(name=name, kind="injected", source="injected by deploytag", data=data)


def set_layer(assignments: Mapping[str, str], *, name: str = "--set", source: str = "--set") -> ValuesLayer:
    """``--set key=value`` overrides, typed as helm types them."""
    return ValuesLayer(name=name, kind="set", source=source, data=parse_set(assignments))


def chart_layers(chart: Path) -> list[ValuesLayer]:
    """The chart's own values.yaml, then every vendored subchart's under its key."""
    if not (chart / "Chart.yaml").is_file():
        raise ChartError(
            f"no chart at {chart} (Chart.yaml missing)",
            hint="set chart.path in deploytag.yaml to the directory holding Chart.yaml",
        )
    root = _load_dir_chart(chart, label=str(chart))
    layers = [ValuesLayer(name="chart", kind="chart", source=f"{chart}/values.yaml", data=root.values)]
    _subchart_layers(root, (), layers)
    return layers


# --------------------------------------------------------------------------- reading charts


class _LoadedChart(msgspec.Struct, frozen=True):
    label: str  # where it was read from, for layer sources
    values_source: str
    meta: dict[str, Any]
    values: dict[str, Any]
    children: list[_LoadedChart]

    @property
    def name(self) -> str:
        return str(self.meta.get("name", ""))

    def dependencies(self) -> list[dict[str, Any]]:
        deps = self.meta.get("dependencies") or []
        return [d for d in deps if isinstance(d, dict)] if isinstance(deps, list) else []


_MAX_MEMBER = 16 * 1024 * 1024  # values files and nested archives; anything bigger is not a chart


def _parse_chart_yaml(text: bytes | None, label: str) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ChartError(
            f"{label}: {_yaml_problem(e)}", hint=f"fix the YAML, then run `helm lint {label}`"
        ) from e
    return data if isinstance(data, dict) else {}


def _parse_values(text: bytes | None, label: str) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        return load_values_yaml(text)
    except (yaml.YAMLError, ValueError) as e:
        raise ChartError(
            f"{label}: {_yaml_problem(e)}", hint=f"fix the YAML, then run `helm lint {label}`"
        ) from e


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _load_dir_chart(directory: Path, *, label: str) -> _LoadedChart:
    meta = _parse_chart_yaml(_read(directory / "Chart.yaml"), f"{label}/Chart.yaml")
    if not meta.get("dependencies"):
        meta["dependencies"] = _parse_chart_yaml(
            _read(directory / "requirements.yaml"), f"{label}/requirements.yaml"
        ).get("dependencies")
    values = _parse_values(_read(directory / "values.yaml"), f"{label}/values.yaml")
    children: list[_LoadedChart] = []
    charts = directory / "charts"
    if charts.is_dir():
        for entry in sorted(charts.iterdir()):
            if entry.is_dir() and (entry / "Chart.yaml").is_file():
                children.append(_load_dir_chart(entry, label=f"{label}/charts/{entry.name}"))
            elif entry.suffix == ".tgz" and entry.is_file():
                children.append(_load_archive(entry.read_bytes(), label=f"{label}/charts/{entry.name}"))
    # Before `helm dependency build` has run, a local (file://) dependency is read from its
    # source directory: that is what the build would package.
    present = {child.name for child in children}
    for dep in meta.get("dependencies") or []:
        repository = str(dep.get("repository") or "") if isinstance(dep, dict) else ""
        source = local_source(directory, repository)
        if source is not None and dep.get("name") not in present and (source / "Chart.yaml").is_file():
            children.append(_load_dir_chart(source, label=str(source)))
            present.add(str(dep.get("name")))
    return _LoadedChart(
        label=label, values_source=f"{label}/values.yaml", meta=meta, values=values, children=children
    )


def _load_archive(data: bytes, *, label: str) -> _LoadedChart:
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar:
                wanted = member.name.endswith(("/Chart.yaml", "/values.yaml", "/requirements.yaml", ".tgz"))
                if not member.isfile() or not wanted or member.size > _MAX_MEMBER:
                    continue
                stream = tar.extractfile(member)
                if stream is not None:
                    # Drop the archive's top directory (the chart name) so paths are chart-relative.
                    files[member.name.split("/", 1)[-1]] = stream.read()
    except (tarfile.TarError, EOFError, OSError) as e:
        raise ChartError(
            f"{label}: not a readable chart archive ({e})",
            hint="run `helm dependency build` to fetch it again",
        ) from e
    return _chart_from_files(files, label=label)


def _chart_from_files(files: Mapping[str, bytes], *, label: str) -> _LoadedChart:
    meta = _parse_chart_yaml(files.get("Chart.yaml"), f"{label}!Chart.yaml")
    if not meta.get("dependencies"):
        meta["dependencies"] = _parse_chart_yaml(
            files.get("requirements.yaml"), f"{label}!requirements.yaml"
        ).get("dependencies")
    values = _parse_values(files.get("values.yaml"), f"{label}!values.yaml")
    children: list[_LoadedChart] = []
    subdirs = sorted(
        {name.split("/")[1] for name in files if name.startswith("charts/") and name.count("/") >= 2}
    )
    for sub in subdirs:
        prefix = f"charts/{sub}/"
        if sub.endswith(".tgz") or f"{prefix}Chart.yaml" not in files:
            continue
        inner = {name[len(prefix) :]: body for name, body in files.items() if name.startswith(prefix)}
        children.append(_chart_from_files(inner, label=f"{label}!{prefix.rstrip('/')}"))
    for name in sorted(files):
        if name.startswith("charts/") and name.count("/") == 1 and name.endswith(".tgz"):
            children.append(_load_archive(files[name], label=f"{label}!{name}"))
    return _LoadedChart(
        label=label, values_source=f"{label}!values.yaml", meta=meta, values=values, children=children
    )


def _subchart_layers(chart: _LoadedChart, scope: tuple[str, ...], out: list[ValuesLayer]) -> None:
    """One layer per subchart instance: a dependency listed twice with aliases is two."""
    deps = chart.dependencies()
    for child in chart.children:
        declared = [d for d in deps if d.get("name") == child.name] or [{}]
        for dep in declared:
            key = str(dep.get("alias") or child.name)
            child_scope = (*scope, key)
            data: dict[str, Any] = copy.deepcopy(child.values)
            for part in reversed(child_scope):
                data = {part: data}
            tags = dep.get("tags") or []
            out.append(
                ValuesLayer(
                    name=f"subchart {format_path(child_scope)}",
                    kind="subchart",
                    source=child.values_source,
                    data=data,
                    scope=child_scope,
                    condition=str(dep.get("condition") or ""),
                    tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
                )
            )
            _subchart_layers(child, child_scope, out)


def _yaml_problem(e: Exception) -> str:
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or str(e)
    return f"line {mark.line + 1}: {problem}" if mark is not None else str(problem)
