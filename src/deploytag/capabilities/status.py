"""Reading what a capability recorded on the namespace, for `deploytag status`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from deploytag.capabilities.context import annotation


def recorded_json(annotations: Mapping[str, str], key: str) -> dict[str, Any]:
    """A recorded JSON annotation; a hand-edited, unreadable one shows as empty rather than failing."""
    try:
        value = json.loads(annotations.get(annotation(key), "{}"))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
