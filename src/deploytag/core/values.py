"""Helm values layering with provenance: what the chart sees and where each value came from.

Pure: reads the chart's values.yaml and its vendored subcharts (directories or .tgz
under charts/) but never runs helm. The merge follows Helm's own code
(pkg/chartutil/coalesce.go, pkg/cli/values, pkg/strvals) and is checked against
the real binary, Helm 3 and 4, by tests/helm/test_values.py:

- user layers (values files, DeployTag's injected values, ``--set``) merge first,
  in order: maps deep-merge, lists and scalars replace, ``null`` is kept;
- the result is coalesced over the chart's defaults, user winning; a user ``null``
  deletes the key the chart defines (a key the chart lacks stays ``null``);
- each enabled subchart's defaults are coalesced under its key (alias or name)
  after the parent's, so a parent's value beats its subchart's default;
- the parent's ``global`` is copied into every subchart's ``global``, parent winning;
- subcharts switched off by their ``condition`` or ``tags`` contribute nothing.

DeployTag hands helm its ``--set`` overrides in a values file (never argv), so they
merge like one: a list index (``hosts[1]=x``) builds a fresh list rather than
editing a list from a values file as helm's own ``--set`` would. Not modelled:
``import-values``/``exports``, schema defaults, and Helm 4 keeping a user ``null``
over a nested chart default that is itself ``null`` (Helm 3 deletes it; so do we).
"""

from __future__ import annotations

import copy
import io
import re
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from deploytag.core.errors import ChartError, ConfigError

LayerKind = Literal["chart", "subchart", "file", "injected", "set"]
_CHART_KINDS = frozenset({"chart", "subchart"})


@dataclass(frozen=True)
class ValuesLayer:
    """One source of values. ``data`` is always the full tree: a subchart's
    defaults are nested under ``scope``, the key path they apply to."""

    name: str
    kind: LayerKind
    source: str
    data: dict[str, Any]
    scope: tuple[str, ...] = ()
    condition: str = ""  # subchart: Chart.yaml dependency condition, comma-separated paths
    tags: tuple[str, ...] = ()  # subchart: Chart.yaml dependency tags


@dataclass(frozen=True)
class LayerRef:
    name: str
    kind: LayerKind
    source: str


@dataclass(frozen=True)
class ValueOrigin:
    """The layer that set a leaf's final value and the layers whose value it replaced."""

    layer: LayerRef
    overridden: tuple[LayerRef, ...] = ()
    masked: bool = False


@dataclass(frozen=True)
class ExplainedValues:
    merged: dict[str, Any]  # what the chart sees as .Values
    origins: dict[str, ValueOrigin]  # leaf path (``image.tag``) -> origin
    removed: dict[str, ValueOrigin] = field(default_factory=dict)  # deleted by a null -> who did it


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


def build_layers(
    *,
    chart: Path,
    values_files: Sequence[Path] = (),
    injected: Mapping[str, Any] | None = None,
    set_values: Mapping[str, str] | None = None,
) -> list[ValuesLayer]:
    """Every layer in Helm's order of precedence, lowest first."""
    layers = chart_layers(chart)
    layers += [file_layer(p) for p in values_files]
    if injected:
        layers.append(injected_layer(injected))
    if set_values:
        layers.append(set_layer(set_values))
    return layers


def helm_inputs(layers: Sequence[ValuesLayer]) -> tuple[list[Path], dict[str, Any]]:
    """What to hand helm: the values files (``-f``, in order) and one mapping of the
    injected and ``--set`` layers merged, which goes last.

    helm reads the chart and subchart defaults itself; the values files go as
    files so helm reads them as it always would. ``--set`` is merged like a
    values file here, so ``explain`` and helm agree by construction.
    """
    files: list[Path] = []
    mapping: dict[str, Any] = {}
    seen_mapping = False
    for layer in layers:
        if layer.kind in _CHART_KINDS:
            continue
        if layer.kind == "file":
            if seen_mapping:
                raise ValueError(
                    f"values file layer {layer.name!r} must come before injected and --set layers"
                )
            files.append(Path(layer.source))
        else:
            seen_mapping = True
            mapping = deep_merge(mapping, layer.data)
    return files, mapping


def deep_merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """``overlay`` over ``base`` as helm merges values files: maps merge, lists and
    scalars replace, and ``null`` is kept (it deletes the chart default later)."""
    merged = _Map({}, 0)
    for data in (base, overlay):
        node = _annotate(data, 0)
        assert isinstance(node, _Map)
        _merge_user(merged, node)
    plain = _plain(merged)
    assert isinstance(plain, dict)
    return plain


# --------------------------------------------------------------------------- --set


_MAX_INDEX = 65536  # helm's strvals limit


def parse_set(assignments: Mapping[str, str]) -> dict[str, Any]:
    """``{"a.b[0]": "true"}`` -> ``{"a": {"b": [True]}}``, as ``helm --set`` types values."""
    tree: dict[str, Any] = {}
    for key, raw in assignments.items():
        path = parse_set_key(key)
        _assign(tree, path, typed_set_value(raw))
    return tree


nest_set_values = parse_set  # the name service code uses


def typed_set_value(raw: str) -> Any:
    """helm's strvals typing: true/false/null, integers without a leading zero; else a string."""
    if raw.startswith("{") and raw.endswith("}"):
        inner = raw[1:-1]
        return [typed_set_value(item) for item in inner.split(",")] if inner else []
    lowered = raw.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    if lowered == "null":
        return None
    if raw == "0":
        return 0
    if re.fullmatch(r"[+-]?[1-9][0-9]*", raw) and -(2**63) <= int(raw) < 2**63:
        return int(raw)
    return raw


def parse_set_key(key: str) -> list[str | int]:
    """``a.b\\.c[0].d`` -> ``["a", "b.c", 0, "d"]``."""
    parts: list[str | int] = []
    buf: list[str] = []
    i = 0
    after_index = False

    def bad(why: str) -> ConfigError:
        return ConfigError(f"--set key {key!r}: {why}", hint="use dotted keys like image.tag or list[0].name")

    while i < len(key):
        c = key[i]
        if c == "\\" and i + 1 < len(key):
            buf.append(key[i + 1])
            i += 2
            continue
        if c == ".":
            if buf:
                parts.append("".join(buf))
                buf = []
            elif not after_index:
                raise bad("empty key segment")
            after_index = False
            i += 1
            continue
        if c == "[":
            if buf:
                parts.append("".join(buf))
                buf = []
            elif not after_index:
                raise bad("an index must follow a key")
            end = key.find("]", i)
            digits = key[i + 1 : end] if end > 0 else ""
            if not digits.isdigit():
                raise bad("list index must be a non-negative integer")
            if int(digits) >= _MAX_INDEX:
                raise bad(f"list index above {_MAX_INDEX}")
            parts.append(int(digits))
            after_index = True
            i = end + 1
            continue
        if after_index:
            raise bad("expected '.' or '[' after an index")
        buf.append(c)
        i += 1
    if buf:
        parts.append("".join(buf))
    elif not after_index:
        raise bad("empty key segment")
    return parts


def _assign(tree: dict[str, Any], path: list[str | int], value: Any) -> None:
    node: Any = tree
    for i, part in enumerate(path):
        if i == len(path) - 1:
            _put(node, part, value)
            return
        want: type = list if isinstance(path[i + 1], int) else dict
        child = _get(node, part)
        if not isinstance(child, want):
            child = want()
            _put(node, part, child)
        node = child


def _get(node: Any, part: str | int) -> Any:
    if isinstance(part, int):
        return node[part] if part < len(node) else None
    return node.get(part)


def _put(node: Any, part: str | int, value: Any) -> None:
    if isinstance(part, int):
        node.extend([None] * (part + 1 - len(node)))
    node[part] = value


# --------------------------------------------------------------------------- paths


_ESCAPE = re.compile(r"([\\.\[\]=,])")


def format_path(parts: Sequence[str]) -> str:
    """Dotted path as ``--set`` spells it: a dot inside a key is escaped."""
    return ".".join(_ESCAPE.sub(r"\\\1", p) for p in parts)


def _split_path(path: str) -> list[str]:
    return [str(p) for p in parse_set_key(path)]


# --------------------------------------------------------------------------- annotated trees


@dataclass
class _Leaf:
    value: Any
    layer: int


@dataclass
class _Map:
    items: dict[str, _Leaf | _Map]
    layer: int  # who supplied this map; matters when it ends up empty


_Node = _Leaf | _Map


def _annotate(data: Any, layer: int) -> _Node:
    if isinstance(data, Mapping):
        return _Map({k: _annotate(v, layer) for k, v in data.items()}, layer)
    return _Leaf(copy.deepcopy(data), layer)


def _plain(node: _Node) -> Any:
    if isinstance(node, _Map):
        return {k: _plain(v) for k, v in node.items.items()}
    return copy.deepcopy(node.value)


def _is_null(node: _Node | None) -> bool:
    return isinstance(node, _Leaf) and node.value is None


def _merge_user(base: _Map, top: _Map) -> None:
    """helm's mergeMaps for -f files: maps merge, anything else (null too) replaces."""
    base.layer = top.layer
    for key, node in top.items.items():
        current = base.items.get(key)
        if isinstance(node, _Map) and isinstance(current, _Map):
            _merge_user(current, node)
        else:
            base.items[key] = copy.deepcopy(node)


def _dig(data: Mapping[str, Any], scope: tuple[str, ...]) -> dict[str, Any]:
    node: Any = data
    for key in scope:
        node = node.get(key) if isinstance(node, Mapping) else None
    return dict(node) if isinstance(node, Mapping) else {}


# --------------------------------------------------------------------------- coalescing


@dataclass
class _Run:
    layers: Sequence[ValuesLayer]  # in precedence order
    enabled: set[tuple[str, ...]]
    removed: dict[tuple[str, ...], tuple[int, set[int]]] = field(default_factory=dict)

    def chart_values(self, scope: tuple[str, ...]) -> _Map:
        values = _Map({}, -1)
        for i, layer in enumerate(self.layers):
            if layer.kind in _CHART_KINDS and layer.scope == scope:
                node = _annotate(_dig(layer.data, scope), i)
                assert isinstance(node, _Map)
                _merge_user(values, node)
        return values

    def children(self, scope: tuple[str, ...]) -> list[tuple[tuple[str, ...], int]]:
        seen: dict[tuple[str, ...], int] = {}
        for i, layer in enumerate(self.layers):
            s = layer.scope
            if (
                layer.kind == "subchart"
                and len(s) == len(scope) + 1
                and s[:-1] == scope
                and s in self.enabled
            ):
                seen.setdefault(s, i)
        return list(seen.items())

    def note_removed(self, path: tuple[str, ...], null: _Node, gone: _Node) -> None:
        self.removed[path] = (null.layer if isinstance(null, _Leaf) else -1, _layers_in(gone))


def _layers_in(node: _Node) -> set[int]:
    if isinstance(node, _Leaf):
        return {node.layer}
    found = {node.layer} if not node.items else set()
    for child in node.items.values():
        found |= _layers_in(child)
    return found


def _coalesce_chart(run: _Run, dest: _Map, scope: tuple[str, ...]) -> None:
    children = run.children(scope)
    child_keys = {s[-1] for s, _ in children}
    _coalesce_values(run, dest, run.chart_values(scope), scope, child_keys)
    for child_scope, layer in children:
        key = child_scope[-1]
        current = dest.items.get(key)
        if current is None:
            current = dest.items[key] = _Map({}, layer)
        elif not isinstance(current, _Map):
            raise ConfigError(
                f"values: {format_path(child_scope)} must be a mapping: it holds the values of a subchart",
                hint=f"set keys under {format_path(child_scope)} instead of replacing it",
            )
        _coalesce_globals(current, dest, layer)
        _coalesce_chart(run, current, child_scope)


def _coalesce_values(
    run: _Run, dest: _Map, chart: _Map, scope: tuple[str, ...], child_keys: set[str]
) -> None:
    for key, default in chart.items.items():
        path = (*scope, key)
        if key not in dest.items:
            dest.items[key] = copy.deepcopy(default)
            continue
        value = dest.items[key]
        if _is_null(value):
            run.note_removed(path, value, default)
            del dest.items[key]
        elif isinstance(value, _Map) and isinstance(default, _Map):
            # Values a parent sets for its subchart are merged, not coalesced: their nulls
            # survive until the subchart's own defaults are applied.
            _coalesce_tables(run, value, default, path, merge=key in child_keys)


def _coalesce_tables(run: _Run | None, dst: _Map, src: _Map, path: tuple[str, ...], *, merge: bool) -> None:
    for key, value in src.items.items():
        current = dst.items.get(key)
        if current is None:
            dst.items[key] = copy.deepcopy(value)
        elif _is_null(current) and not merge:
            if run is not None:
                run.note_removed((*path, key), current, value)
            del dst.items[key]
        elif isinstance(value, _Map) and isinstance(current, _Map):
            _coalesce_tables(run, current, value, (*path, key), merge=merge)


def _coalesce_globals(sub: _Map, parent: _Map, layer: int) -> None:
    """Copy the parent's ``global`` into the subchart's, the parent winning.

    Helm 3.18 and 4.1 copy each global table one level deep only, so deeper tables
    are shared with the parent's ``global``: the subchart's own global defaults
    then also appear in the parent's (helm/helm fixes this later). The shallow
    copy below keeps that sharing, because it is what charts see.
    """
    dg = sub.items.get("global", _Map({}, layer))
    sg = parent.items.get("global", _Map({}, layer))
    if not isinstance(dg, _Map) or not isinstance(sg, _Map):
        return
    for key, value in sg.items.items():
        current = dg.items.get(key)
        if isinstance(value, _Map):
            shallow = _Map(dict(value.items), value.layer)
            if current is None:
                dg.items[key] = shallow
            elif isinstance(current, _Map):
                # merge=True: nulls survive here; the subchart's own coalescing removes them.
                _coalesce_tables(None, shallow, current, ("global", key), merge=True)
                dg.items[key] = shallow
        elif not isinstance(current, _Map):
            dg.items[key] = copy.copy(value)
    sub.items["global"] = dg


def _disabled(layers: Sequence[ValuesLayer], merged: Mapping[str, Any]) -> set[tuple[str, ...]]:
    """Subchart scopes switched off by tags or condition (helm's processDependencyEnabled)."""
    tags = merged.get("tags")
    off: set[tuple[str, ...]] = set()
    for layer in layers:
        if layer.kind != "subchart":
            continue
        enabled = True
        if isinstance(tags, Mapping):
            states = [tags[t] for t in layer.tags if isinstance(tags.get(t), bool)]
            enabled = any(states) or not states
        for condition in layer.condition.split(","):
            found, value = _lookup(merged, [*layer.scope[:-1], *condition.strip().split(".")])
            if condition.strip() and found and isinstance(value, bool):
                enabled = value
                break
        if not enabled:
            off.add(layer.scope)
    return off


def _lookup(tree: Any, path: Sequence[str]) -> tuple[bool, Any]:
    for key in path:
        if not isinstance(tree, Mapping) or key not in tree:
            return False, None
        tree = tree[key]
    return True, tree


def _precedence(layers: Sequence[ValuesLayer]) -> list[ValuesLayer]:
    """Chart-side layers (deepest subchart first, then the chart), then user layers in order."""
    keyed = [
        ((0, -len(layer.scope), i) if layer.kind in _CHART_KINDS else (1, 0, i), layer)
        for i, layer in enumerate(layers)
    ]
    return [layer for _, layer in sorted(keyed, key=lambda kv: kv[0])]


def _coalesce_all(layers: Sequence[ValuesLayer], enabled: set[tuple[str, ...]]) -> tuple[_Map, _Run]:
    run = _Run(layers=layers, enabled=enabled)
    user = _Map({}, -1)
    for i, layer in enumerate(layers):
        if layer.kind not in _CHART_KINDS:
            node = _annotate(layer.data, i)
            assert isinstance(node, _Map)
            _merge_user(user, node)
    _coalesce_chart(run, user, ())
    return user, run


# --------------------------------------------------------------------------- explain


def explain(layers: Sequence[ValuesLayer]) -> ExplainedValues:
    """The values the chart sees, and for every leaf which layer set it."""
    ordered = _precedence(layers)
    scopes = {layer.scope for layer in ordered if layer.kind == "subchart"}
    tree, run = _coalesce_all(ordered, scopes)
    off = _disabled(ordered, _plain(tree))
    if off:
        keep = {s for s in scopes if not any(s[: len(o)] == o for o in off)}
        tree, run = _coalesce_all(ordered, keep)

    merged = _plain(tree)
    assert isinstance(merged, dict)
    refs = [LayerRef(name=layer.name, kind=layer.kind, source=layer.source) for layer in ordered]
    index = _AssignedIndex(ordered)
    origins: dict[str, ValueOrigin] = {}
    for path, node in _leaves(tree, ()):
        others = sorted(index.touching(path) - {node.layer})
        origins[format_path(path)] = ValueOrigin(
            layer=refs[node.layer], overridden=tuple(refs[i] for i in others)
        )
    removed = {
        format_path(path): ValueOrigin(layer=refs[by], overridden=tuple(refs[i] for i in sorted(gone - {by})))
        for path, (by, gone) in run.removed.items()
        if by >= 0 and _lookup(merged, path)[0] is False
    }
    return ExplainedValues(merged=merged, origins=origins, removed=removed)


def _leaves(node: _Map, path: tuple[str, ...]) -> Iterable[tuple[tuple[str, ...], _Leaf | _Map]]:
    for key, child in node.items.items():
        if isinstance(child, _Map) and child.items:
            yield from _leaves(child, (*path, key))
        else:
            yield (*path, key), child


class _AssignedIndex:
    """Which layers wrote at, above (with a non-map) or below each path."""

    def __init__(self, layers: Sequence[ValuesLayer]) -> None:
        self.exact: dict[tuple[str, ...], set[int]] = {}
        self.scalar: dict[tuple[str, ...], set[int]] = {}
        self.below: dict[tuple[str, ...], set[int]] = {}
        for i, layer in enumerate(layers):
            for path, value in _data_leaves(layer.data, ()):
                self.exact.setdefault(path, set()).add(i)
                if not isinstance(value, Mapping):
                    self.scalar.setdefault(path, set()).add(i)
                for n in range(1, len(path)):
                    self.below.setdefault(path[:n], set()).add(i)

    def touching(self, path: tuple[str, ...]) -> set[int]:
        found = set(self.exact.get(path, ())) | self.below.get(path, set())
        for n in range(1, len(path)):
            found |= self.scalar.get(path[:n], set())
        return found


def _data_leaves(data: Mapping[str, Any], path: tuple[str, ...]) -> Iterable[tuple[tuple[str, ...], Any]]:
    for key, value in data.items():
        if isinstance(value, Mapping) and value:
            yield from _data_leaves(value, (*path, key))
        else:
            yield (*path, key), value


# --------------------------------------------------------------------------- masking

SECRET_KEY = re.compile(r"password|passwd|secret|token|key", re.IGNORECASE)
# A key naming a secret (envSecretName, secretKeyRef) holds a name, not the secret.
_NAME_LIKE = re.compile(r"(name|names|ref)$", re.IGNORECASE)
MASK = "***"


def is_secret_path(path: str) -> bool:
    """Whether a dotted leaf path looks like it holds a secret (``db.password``)."""
    return is_secret_key_path(_split_path(path))


def is_secret_key_path(parts: Sequence[str]) -> bool:
    return bool(parts) and not _NAME_LIKE.search(parts[-1]) and any(SECRET_KEY.search(p) for p in parts)


def mask_secrets(explained: ExplainedValues, *, paths: Iterable[str] = ()) -> ExplainedValues:
    """A copy with secret-looking leaves (and any under ``paths``) shown as ``***``.

    Booleans, nulls and empty values are left visible: they reveal nothing and
    show whether a secret is configured at all.
    """
    extra = [_split_path(p) for p in paths]
    merged = copy.deepcopy(explained.merged)
    origins = dict(explained.origins)
    for dotted, origin in explained.origins.items():
        parts = _split_path(dotted)
        explicit = any(parts[: len(e)] == e for e in extra)
        if not (explicit or is_secret_path(dotted)):
            continue
        parent = _lookup(merged, parts[:-1])[1]
        value = parent.get(parts[-1]) if isinstance(parent, dict) else None
        if value is None or isinstance(value, bool) or value in ("", [], {}):
            continue
        parent[parts[-1]] = MASK
        origins[dotted] = replace(origin, masked=True)
    return ExplainedValues(merged=merged, origins=origins, removed=dict(explained.removed))


# --------------------------------------------------------------------------- reading charts


@dataclass(frozen=True)
class _LoadedChart:
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
        if repository.startswith("file://") and dep.get("name") not in present:
            source = (directory / repository[len("file://") :]).resolve()
            if (source / "Chart.yaml").is_file():
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
