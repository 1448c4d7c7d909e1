"""``--set`` as helm reads it, and dotted key paths as ``--set`` spells them.

``parse_set`` follows Helm's pkg/strvals: ``a.b\\.c[0]=true`` nests, escapes and
types like ``helm --set``. The path helpers are the same syntax read the other
way, for naming a leaf in ``explain`` output and splitting such a name again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from deploytag.core.errors import ConfigError

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


def split_path(path: str) -> list[str]:
    """``format_path`` undone: ``a.b\\.c`` -> ``["a", "b.c"]``."""
    return [str(p) for p in parse_set_key(path)]
