"""The four PATCH flavours: JSON merge patch, strategic merge patch, JSON patch, apply.

Strategic merge patch follows the real rules for the lists that carry a merge
key in the Kubernetes types (containers by ``name``, ports by ``containerPort``
or ``port``, env by ``name``, conditions by ``type`` ...) and understands the
``$patch``, ``$setElementOrder/``, ``$retainKeys`` and
``$deleteFromPrimitiveList/`` directives that client-go's three-way merge
produces. Fields not in the table are replaced, as atomic lists are.
"""

from __future__ import annotations

import copy
from typing import Any

from .errors import ApiError

# field name -> merge key of its elements (the `patchMergeKey` tags of k8s.io/api)
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "env": "name",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "conditions": "type",
    "ownerReferences": "uid",
    "readinessGates": "conditionType",
    "schedulingGates": "name",
    "resourceClaims": "name",
    "topologySpreadConstraints": "topologyKey",
    "containerStatuses": "name",
}
# lists of scalars whose patch strategy is "merge" (union), not replace
PRIMITIVE_MERGE = {"finalizers"}


def _merge_key(field: str, items: list[Any]) -> str | None:
    if field == "ports":
        for item in items:
            if isinstance(item, dict) and "containerPort" in item:
                return "containerPort"
        return "port"
    return MERGE_KEYS.get(field)


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    return _smp_map(target if isinstance(target, dict) else {}, patch)


def _smp_map(original: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any] | None:
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    result = copy.deepcopy(original)
    orders: dict[str, list[Any]] = {}
    retain: list[str] | None = None
    for key, value in patch.items():
        if key == "$patch":
            continue
        if key == "$retainKeys":
            retain = list(value or [])
            continue
        if key.startswith("$setElementOrder/"):
            orders[key.split("/", 1)[1]] = value or []
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            drop = set(map(_hashable, value or []))
            if isinstance(result.get(field), list):
                result[field] = [v for v in result[field] if _hashable(v) not in drop]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = _smp_map(result[key] if isinstance(result.get(key), dict) else {}, value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _smp_list(key, result.get(key), value)
        else:
            result[key] = value
    for field, order in orders.items():
        if isinstance(result.get(field), list):
            result[field] = _apply_order(field, result[field], order)
    if retain is not None:
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _hashable(value: Any) -> Any:
    return repr(value) if isinstance(value, dict | list) else value


def _smp_list(field: str, original: Any, patch: list[Any]) -> list[Any]:
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return [copy.deepcopy(p) for p in patch if not (isinstance(p, dict) and p.get("$patch") == "replace")]
    original_list = list(original) if isinstance(original, list) else []
    if field in PRIMITIVE_MERGE and all(not isinstance(p, dict) for p in patch):
        result = copy.deepcopy(original_list)
        for item in patch:
            if item not in result:
                result.append(item)
        return result
    key = _merge_key(field, patch + original_list)
    if key is None or not all(isinstance(p, dict) for p in patch):
        return copy.deepcopy(patch)
    result = copy.deepcopy(original_list)
    for item in patch:
        if key not in item:
            # without the key the element can't be matched: the real server rejects it
            raise ApiError.bad_request(f"map: {item} does not contain declared merge key: {key}")
        index = next(
            (i for i, cur in enumerate(result) if isinstance(cur, dict) and cur.get(key) == item[key]), None
        )
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
            continue
        if index is None:
            merged = _smp_map({}, item)
            if merged is not None:
                result.append(merged)
        else:
            merged = _smp_map(result[index], item)
            if merged is None:
                result.pop(index)
            else:
                result[index] = merged
    return result


def _apply_order(field: str, items: list[Any], order: list[Any]) -> list[Any]:
    key = _merge_key(field, items)
    if key is None:
        wanted = [_hashable(o) for o in order]
        ranked = {v: i for i, v in enumerate(wanted)}
        return sorted(items, key=lambda v: ranked.get(_hashable(v), len(ranked)))
    ranked = {(o.get(key) if isinstance(o, dict) else o): i for i, o in enumerate(order)}
    return sorted(items, key=lambda v: ranked.get(v.get(key) if isinstance(v, dict) else v, len(ranked)))


# ---------------------------------------------------------------------------
# RFC 6902


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError.bad_request(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(doc, list):
            doc = doc[int(part)]
        elif isinstance(doc, dict):
            doc = doc[part]
        else:
            raise KeyError(part)
    return doc


def json_patch(target: Any, ops: Any) -> Any:
    if not isinstance(ops, list):
        raise ApiError.bad_request("json patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in ops:
        try:
            doc = _json_patch_op(doc, op)
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise ApiError(
                422, "Invalid", f"the server rejected our request due to an error in our request: {op}: {exc}"
            ) from exc
    return doc


def _json_patch_op(doc: Any, op: dict[str, Any]) -> Any:
    kind = op["op"]
    parts = _pointer(op["path"])
    if kind == "test":
        if _walk(doc, parts) != op.get("value"):
            raise ValueError("testing value failed")
        return doc
    if kind in ("move", "copy"):
        value = copy.deepcopy(_walk(doc, _pointer(op["from"])))
        if kind == "move":
            doc = _json_patch_op(doc, {"op": "remove", "path": op["from"]})
        return _json_patch_op(doc, {"op": "add", "path": op["path"], "value": value})
    if not parts:
        if kind in ("add", "replace"):
            return copy.deepcopy(op["value"])
        raise ValueError("cannot remove the root")
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        if kind == "add":
            index = len(parent) if last == "-" else int(last)
            if index > len(parent):
                raise IndexError(last)
            parent.insert(index, copy.deepcopy(op["value"]))
        elif kind == "remove":
            parent.pop(int(last))
        elif kind == "replace":
            parent[int(last)] = copy.deepcopy(op["value"])
        else:
            raise ValueError(f"unknown op {kind}")
    elif isinstance(parent, dict):
        if kind == "add":
            parent[last] = copy.deepcopy(op["value"])
        elif kind == "remove":
            del parent[last]
        elif kind == "replace":
            if last not in parent:
                raise KeyError(last)
            parent[last] = copy.deepcopy(op["value"])
        else:
            raise ValueError(f"unknown op {kind}")
    else:
        raise KeyError(last)
    return doc


# ---------------------------------------------------------------------------
# Server-side apply, approximated for one field manager at a time


def apply_patch(live: dict[str, Any] | None, config: dict[str, Any], previous: dict[str, Any] | None) -> Any:
    """Merge an applied configuration into the live object.

    Maps merge, lists are replaced whole (what a single manager owning its
    fields sees), and fields that ``previous`` (the last configuration this
    manager applied) set but ``config`` no longer does are removed.
    """
    result = _deep_merge(copy.deepcopy(live) if live else {}, config)
    if previous:
        _remove_dropped(result, previous, config)
    return result


def _deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _remove_dropped(result: dict[str, Any], previous: dict[str, Any], config: dict[str, Any]) -> None:
    for key, old in previous.items():
        if key not in config:
            result.pop(key, None)
        elif isinstance(old, dict) and isinstance(config[key], dict) and isinstance(result.get(key), dict):
            _remove_dropped(result[key], old, config[key])
