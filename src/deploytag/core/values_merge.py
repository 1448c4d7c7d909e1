"""Helm's merge of values layers, with provenance: what the chart sees as ``.Values``
and which layer set each leaf.

The merge follows Helm's own code (pkg/chartutil/coalesce.go, pkg/cli/values,
pkg/strvals) and is checked against the real binary, Helm 3 and 4, by
tests/helm/test_values.py:

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
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec

from deploytag.core.errors import ConfigError
from deploytag.core.values_layers import CHART_KINDS, ExplainedValues, LayerRef, ValueOrigin, ValuesLayer
from deploytag.core.values_set import format_path


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


# --------------------------------------------------------------------------- annotated trees


class _Leaf(msgspec.Struct):
    value: Any
    layer: int


class _Map(msgspec.Struct):
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


class _Run(msgspec.Struct):
    layers: Sequence[ValuesLayer]  # in precedence order
    enabled: set[tuple[str, ...]]
    removed: dict[tuple[str, ...], tuple[int, set[int]]] = msgspec.field(default_factory=dict)

    def chart_values(self, scope: tuple[str, ...]) -> _Map:
        values = _Map({}, -1)
        for i, layer in enumerate(self.layers):
            if layer.kind in CHART_KINDS and layer.scope == scope:
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
            found, value = lookup(merged, [*layer.scope[:-1], *condition.strip().split(".")])
            if condition.strip() and found and isinstance(value, bool):
                enabled = value
                break
        if not enabled:
            off.add(layer.scope)
    return off


def lookup(tree: Any, path: Sequence[str]) -> tuple[bool, Any]:
    """Whether ``path`` exists in ``tree``, and the value there (a null is found)."""
    for key in path:
        if not isinstance(tree, Mapping) or key not in tree:
            return False, None
        tree = tree[key]
    return True, tree


def _precedence(layers: Sequence[ValuesLayer]) -> list[ValuesLayer]:
    """Chart-side layers (deepest subchart first, then the chart), then user layers in order."""
    keyed = [
        ((0, -len(layer.scope), i) if layer.kind in CHART_KINDS else (1, 0, i), layer)
        for i, layer in enumerate(layers)
    ]
    return [layer for _, layer in sorted(keyed, key=lambda kv: kv[0])]


def _coalesce_all(layers: Sequence[ValuesLayer], enabled: set[tuple[str, ...]]) -> tuple[_Map, _Run]:
    run = _Run(layers=layers, enabled=enabled)
    user = _Map({}, -1)
    for i, layer in enumerate(layers):
        if layer.kind not in CHART_KINDS:
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
        if by >= 0 and lookup(merged, path)[0] is False
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
