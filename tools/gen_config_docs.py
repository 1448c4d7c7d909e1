"""Write docs/configuration.md from the settings models, so the reference never drifts.

tests/docs/test_docs.py fails when the committed file differs from what this writes.
"""

from __future__ import annotations

import json
import re
import sys
import typing
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from deploytag.core.config import Config  # noqa: E402
from deploytag.core.settingsmodel import to_data  # noqa: E402

HEADER = """# Configuration reference

`deploytag.yaml` lives in the app repository. Precedence, highest first: command-line flags,
`DEPLOYTAG_*` environment variables (`__` separates levels: `DEPLOYTAG_CHART__TIMEOUT_SECONDS=600`;
lists are comma-separated: `DEPLOYTAG_SECRETS__IDS=staging/app,staging/extra`), `deploytag.yaml`, then the
defaults below. Unknown keys and wrong types are one error naming the file and the key.
`deploytag config --explain` prints every effective value with its source.

This page is generated from `src/deploytag/core/config/schema.py` and the providers' settings beside their
adapters (`src/deploytag/adapters/*/settings.py`) by `tools/gen_config_docs.py`.

| key | type | default | meaning |
|---|---|---|---|
"""


def _type_name(annotation: Any) -> str:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Union and all(isinstance(arg, type) for arg in args):
        # `Annotated[int, Meta(ge=1)] | None` without its Annotated reads Optional[int]: write int | None.
        return " \\| ".join("None" if arg is type(None) else _type_name(arg) for arg in args)
    text = str(annotation).replace("typing.", "").replace("pathlib.", "").replace("<class '", "")
    # Models are declared in core.config.schema, core.sections and adapters' settings modules: drop the module path.
    text = re.sub(r"\bdeploytag(\.\w+)*\.(?=[A-Z])", "", text.replace("'>", ""))
    return text.replace("|", "\\|")


def _description(annotation: Any) -> str:
    """The ``Meta(description=...)`` of a field, on its type or, for ``X | None``, on X."""
    candidates = [annotation, *typing.get_args(annotation)]
    for candidate in candidates:
        if typing.get_origin(candidate) is typing.Annotated:
            for meta in candidate.__metadata__:
                if isinstance(meta, msgspec.Meta) and meta.description:
                    return meta.description
    return ""


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, msgspec.Struct)


def _default(field: msgspec.structs.FieldInfo) -> str:
    if field.required:
        return "required"
    value = field.default_factory() if field.default is msgspec.NODEFAULT else field.default
    if _is_model(value.__class__):
        value = to_data(value)
    if isinstance(value, dict):
        value = {k: to_data(v) if _is_model(v.__class__) else v for k, v in value.items()}
    try:
        return "`" + json.dumps(value, default=str) + "`"
    except TypeError:
        return "`" + str(value) + "`"


def rows(model: type[msgspec.Struct], prefix: str = "") -> list[str]:
    out = []
    hints = typing.get_type_hints(model, include_extras=True)
    for field in msgspec.structs.fields(model):
        key = f"{prefix}{field.name}"
        annotated = hints[field.name]
        annotation = typing.get_type_hints(model)[field.name]  # without constraints and descriptions
        origin = typing.get_origin(annotation)
        if _is_model(annotation):
            out.extend(rows(annotation, key + "."))
            continue
        nested = None
        if origin is dict:
            args = typing.get_args(annotation)
            if args and _is_model(args[1]):
                nested = args[1]
        out.append(f"| `{key}` | {_type_name(annotation)} | {_default(field)} | {_description(annotated)} |")
        if nested is not None:
            out.extend(rows(nested, key + ".<name>."))
    return out


def render() -> str:
    return HEADER + "\n".join(rows(Config)) + "\n"


if __name__ == "__main__":
    (ROOT / "docs" / "configuration.md").write_text(render())
    print("wrote docs/configuration.md")
