"""YAML reading with libyaml's parser when PyYAML has it (its wheels do).

Configuration, values files, Chart.yaml and rendered manifests are parsed on
every plan and deploy; the C parser is several times faster than the pure
Python one and builds the same safe objects. PyYAML itself is imported on
first use, so commands that read no YAML do not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def safe_loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str | bytes) -> Any:
    import yaml

    return yaml.load(text, Loader=safe_loader())  # noqa: S506 - a safe loader


def load_all(text: str | bytes) -> Iterator[Any]:
    import yaml

    return yaml.load_all(text, Loader=safe_loader())
