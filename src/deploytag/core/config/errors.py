"""From msgspec's validation error to the loader's one line: ``<dotted.key>: <problem>``.

msgspec reports the first error as ``<message> - at `$.chart.timeout_seconds```. Two gaps
are filled from the schema and the input: a mapping's entries show as ``[...]`` (the key
is found by validating the entries one by one, in order, as msgspec did), and a model's
own check (``__post_init__``) is reported at the model, so ``FieldError`` names the field.
The wording of the errors people meet most stays as it always was: "unknown key" and
"required key is missing", each with its hint.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Annotated, Any, Literal, Union

import msgspec

from deploytag.core.settingsmodel import FieldError, convert

_FIX = "fix the value (see docs/configuration.md)"
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<name>[^`]*)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]*)`$")
_EXPECTED = re.compile(r"^Expected `(?P<want>[^`]*)`, got `(?P<got>[^`]*)`$")
_AT = re.compile(r"^(?P<message>.*?)(?: - at `(?P<in_key>key` in `)?\$(?P<path>[^`]*)`)?$", re.S)
_STEP = re.compile(r"\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)|\[(?P<index>\d+|\.\.\.)\]")
_ABSENT = object()


class Problem(msgspec.Struct, frozen=True):
    key: str  # dotted, e.g. "images.app.repository"; "(top level)" for the document itself
    text: str
    hint: str


def describe(error: msgspec.ValidationError, model: type, data: Any) -> Problem:
    """The key, the problem (with the offending scalar value) and the hint for ``error``."""
    match = _AT.match(str(error))
    message, path = (match["message"], match["path"] or "") if match else (str(error), "")
    in_key = bool(match and match["in_key"])  # a mapping's key, not its value, is wrong
    keys: list[str] = []
    type_: Any = model
    value: Any = data
    for step in _STEP.finditer(path):
        if step["name"] is not None:
            keys.append(step["name"])
            type_, value = field_type(type_, step["name"]), _get(value, step["name"])
        elif step["index"] == "...":
            type_ = _args(type_, dict)[1]
            key, value = _failing_entry(value, type_)
            keys.append(key)
        else:
            index = int(step["index"])
            type_ = _args(type_, list)[0]
            value = value[index] if isinstance(value, list) and index < len(value) else _ABSENT
            keys.append(str(index))

    if found := _UNKNOWN.match(message):
        keys.append(found["name"])
        text, hint = "unknown key", "remove it or check its spelling against docs/configuration.md"
    elif found := _MISSING.match(message):
        keys.append(found["name"])
        text, hint = "required key is missing", "add it (see docs/configuration.md)"
    elif isinstance(error.__cause__, FieldError):
        keys.append(error.__cause__.field)
        text, hint = str(error.__cause__) + _got(_get(value, error.__cause__.field)), _FIX
    elif in_key:
        text, hint = f"a key: {_problem(message, type_, _ABSENT)}", _FIX
    else:
        text, hint = _problem(message, type_, value), _FIX
    return Problem(key=".".join(keys) or "(top level)", text=text, hint=hint)


def _problem(message: str, type_: Any, value: Any) -> str:
    got = _got(value)
    if message.startswith("Invalid enum value"):
        allowed = ", ".join(repr(choice) for choice in _literal_choices(type_))
        return f"must be one of {allowed}{got}"
    if (expected := _EXPECTED.match(message)) is not None:
        want = _plain(expected["want"])
        return f"expected {want}{got}" if got else f"expected {want}, got {_plain(expected['got'])}"
    return _plain(message[:1].lower() + message[1:]) + got


def _plain(text: str) -> str:
    # msgspec speaks JSON: an object is a mapping in YAML, an array a list.
    text = text.replace("`", "")
    return re.sub(r"\bobject\b", "mapping", re.sub(r"\barray\b", "list", text))


def _got(value: Any) -> str:
    if value is _ABSENT or isinstance(value, dict | list):
        return ""
    return f" (got {value!r})"


def _get(value: Any, name: str) -> Any:
    return value.get(name, _ABSENT) if isinstance(value, dict) else _ABSENT


def _failing_entry(entries: Any, value_type: Any) -> tuple[str, Any]:
    """The first entry of a mapping whose value does not validate: the one msgspec stopped at."""
    if isinstance(entries, dict):
        for key, value in entries.items():
            try:
                convert(value, value_type)
            except (msgspec.ValidationError, TypeError):
                return str(key), value
    return "<name>", _ABSENT


def field_type(model: Any, name: str) -> Any:
    """The declared type of ``model``'s field ``name`` (constraints kept), or None."""
    model = strip(model)
    if not (isinstance(model, type) and issubclass(model, msgspec.Struct)):
        return None
    return typing.get_type_hints(model, include_extras=True).get(name)


def strip(type_: Any) -> Any:
    """``type_`` without its constraints (Annotated) and without ``| None``."""
    while True:
        origin = typing.get_origin(type_)
        if origin is Annotated:
            type_ = typing.get_args(type_)[0]
        elif origin in (Union, types.UnionType):
            options = [arg for arg in typing.get_args(type_) if arg is not type(None)]
            if len(options) != 1:
                return type_
            type_ = options[0]
        else:
            return type_


def _args(type_: Any, container: type) -> tuple[Any, ...]:
    type_ = strip(type_)
    args = typing.get_args(type_) if typing.get_origin(type_) is container else ()
    return args or (None, None)


def _literal_choices(type_: Any) -> tuple[Any, ...]:
    type_ = strip(type_)
    if typing.get_origin(type_) is Literal:
        return typing.get_args(type_)
    return ()


def leaf_type(model: type, parts: list[str]) -> Any:
    """The type of a dotted key's value (``["chart", "timeout_seconds"]``), through models and mappings."""
    type_: Any = model
    for part in parts:
        stripped = strip(type_)
        if typing.get_origin(stripped) is dict:
            type_ = typing.get_args(stripped)[1]
        else:
            type_ = field_type(stripped, part)
        if type_ is None:
            return None
    return type_


def is_list(type_: Any) -> bool:
    return typing.get_origin(strip(type_)) is list


def is_bool(type_: Any) -> bool:
    return strip(type_) is bool
