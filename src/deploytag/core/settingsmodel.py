"""The base of every settings model: unknown keys are errors, values are frozen and validated.

Settings are msgspec Structs: a class costs microseconds to create and msgspec imports in a
few milliseconds, where pydantic cost every run ~95 ms before the first line of work (issue 11).
Fields are declared ``name: Annotated[int, Meta(ge=1, description="...")] = 300``: the
constraint is checked when data is converted (``convert``), the description feeds
docs/configuration.md. A model's own checks are in ``__post_init__`` and raise ``FieldError``,
so the loader can name the key.

Adapter packages declare their providers' settings on it (``adapters/<capability>/settings.py``),
so this module imports msgspec and core only. It lives outside ``core.config`` because importing
anything from that package runs its ``__init__``, which loads the schema, which imports the
adapters' settings: an adapter's settings module imported first would then find itself
half-initialised.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar, dataclass_transform

import msgspec

from deploytag.core.printable import printable_names

T = TypeVar("T")


# Tells type checkers that subclasses inherit frozen and kw_only (msgspec's own stub cannot say so).
@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(msgspec.field,))
class SettingsModel(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Frozen, keyword-only, unknown keys refused; equal and hashable by value like a tuple."""


class FieldError(ValueError):
    """A model's check refused the value of one of its fields.

    msgspec reports an exception from ``__post_init__`` at the model's path; ``field``
    completes it to the key, e.g. ``images.app`` + ``repository``.
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field


def require_printable(model: SettingsModel, *fields: str) -> None:
    """Each named field (a name or a list of names) holds printable one-line text, else FieldError."""
    for name in fields:
        try:
            printable_names(getattr(model, name))
        except ValueError as e:
            raise FieldError(name, str(e)) from None


def _decode(type_: type, value: Any) -> Any:
    # Paths are the one type msgspec does not convert itself.
    if type_ is Path and isinstance(value, str):
        return Path(value)
    raise TypeError(f"Expected `{getattr(type_, '__name__', type_)}`, got `{type(value).__name__}`")


def _encode(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def convert(data: Any, type_: type[T]) -> T:
    """Validate plain data (from YAML, the environment, flags) into ``type_``; raise msgspec.ValidationError.

    Lax like YAML and environment strings need: "600" is an int, "true" a bool, 3.0 an int.
    """
    return msgspec.convert(data, type_, strict=False, dec_hook=_decode)


def to_data(model: SettingsModel) -> dict[str, Any]:
    """A model as JSON-compatible plain data in field order (paths as strings)."""
    data: dict[str, Any] = msgspec.to_builtins(model, enc_hook=_encode)
    return data
