"""What the service's reports share: the JSON form the CLI prints."""

from __future__ import annotations

from typing import Any

from deploytag.core.records import asdict


def report_dict(report: Any) -> dict[str, Any]:
    """A report dataclass as JSON-ready data; its ``exception`` is for the CLI's exit status, not the output."""
    data = asdict(report)
    data.pop("exception", None)
    return data
