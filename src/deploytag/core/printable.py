"""Characters no name may hold, and how an error quotes a value it refuses.

Branches, commits, zones, record templates, contexts and secret ids are written
into annotations, labels, values, DNS and logs. A newline or a terminal escape in
one of them would forge a log line or an annotation, so they are refused where
they enter: a flag, an environment variable, a CI variable or deploytag.yaml.
"""

from __future__ import annotations

import unicodedata
from typing import Any

# Control (Cc, newlines and escapes included), format (Cf: bidi overrides, zero-width), line and
# paragraph separators, and lone surrogates (argv bytes that were not valid UTF-8).
_UNPRINTABLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def unprintable(value: str) -> str | None:
    """The first character of ``value`` no name may hold, as U+XXXX, or None."""
    for char in value:
        if unicodedata.category(char) in _UNPRINTABLE:
            return f"U+{ord(char):04X}"
    return None


def shown(value: str, limit: int = 60) -> str:
    """A value as an error may quote it: on one line (repr escapes controls) and short."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def printable_names(value: Any) -> Any:
    """A check's body: a name, or a list of names, each printable and on one line; else ValueError."""
    for name in value if isinstance(value, list) else [value]:
        bad = unprintable(name) if isinstance(name, str) else None
        if bad is not None:
            # The loader turns this into a ConfigError naming the key and where the value came from.
            raise ValueError(f"contains a control character ({bad}); a name is one line of printable text")
    return value
