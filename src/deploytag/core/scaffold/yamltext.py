"""Small helpers for writing YAML by hand with comments (PyYAML's dumper drops comments)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from deploytag.core import yamlio

_PLAIN = re.compile(r"^[A-Za-z0-9_./][A-Za-z0-9_./-]*$")


def scalar(value: str) -> str:
    """A string as a YAML scalar: plain when it reads back as the same string, else JSON-quoted
    (JSON strings are YAML), so ``yes``, ``1.0`` or ``a: b`` never change type or meaning."""
    if _PLAIN.match(value) and yamlio.load(value) == value:
        return value
    return json.dumps(value)


def flow_list(values: Iterable[str]) -> str:
    """``["a", "b"]``: JSON is YAML, and the quoting is unambiguous for commands."""
    return json.dumps(list(values))


def comment(text: str, *, indent: int = 0) -> str:
    """One or more ``# ...`` lines at ``indent`` spaces."""
    pad = " " * indent
    return "\n".join(f"{pad}# {line}".rstrip() for line in text.splitlines())
