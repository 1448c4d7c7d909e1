"""Records as JSON-ready data, whether they are msgspec Structs or dataclasses.

The records a run creates by the hundred are msgspec Structs (a class costs ~0.05 ms to create where
``@dataclass`` costs 0.3-0.5 ms: docs/development.md); reports that hold them are dataclasses still.
``asdict`` is ``dataclasses.asdict`` made to recurse into Structs too, field by field in their order,
so a report renders exactly as when everything was a dataclass (``msgspec.to_builtins`` would not:
it turns tuples into lists and Paths into strings).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import msgspec


def asdict(record: Any) -> dict[str, Any]:
    """A Struct's or dataclass's fields, recursively (into records, lists, tuples and dicts)."""
    if not isinstance(record, msgspec.Struct) and (
        not dataclasses.is_dataclass(record) or isinstance(record, type)
    ):
        raise TypeError(f"asdict() needs a Struct or dataclass instance, not {type(record).__name__}")
    data: dict[str, Any] = _inner(record)
    return data


def _inner(value: Any) -> Any:
    if isinstance(value, msgspec.Struct):
        return {name: _inner(getattr(value, name)) for name in value.__struct_fields__}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _inner(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple, as dataclasses.asdict does
        return type(value)(*[_inner(v) for v in value])
    if isinstance(value, (list, tuple)):
        return type(value)(_inner(v) for v in value)
    if isinstance(value, dict):
        return type(value)((_inner(k), _inner(v)) for k, v in value.items())
    return copy.deepcopy(value)
