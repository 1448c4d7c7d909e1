"""Write docs/configuration.md from the pydantic models, so the reference never drifts.

tests/docs/test_docs.py fails when the committed file differs from what this writes.
"""

from __future__ import annotations

import json
import re
import sys
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from deploytag.core.config import Config  # noqa: E402

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
    text = str(annotation).replace("typing.", "").replace("pathlib.", "").replace("<class '", "")
    # Models are declared in core.config.schema and in adapters' settings modules: drop the module path.
    text = re.sub(r"\bdeploytag(\.\w+)*\.(?=[A-Z])", "", text.replace("'>", ""))
    return text.replace("|", "\\|")


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, dict):
        value = {k: v.model_dump(mode="json") if isinstance(v, BaseModel) else v for k, v in value.items()}
    try:
        return "`" + json.dumps(value, default=str) + "`"
    except TypeError:
        return "`" + str(value) + "`"


def rows(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        annotation = field.annotation
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out.extend(rows(annotation, key + "."))
            continue
        nested = None
        if origin is dict:
            args = typing.get_args(annotation)
            if args and isinstance(args[1], type) and issubclass(args[1], BaseModel):
                nested = args[1]
        out.append(f"| `{key}` | {_type_name(annotation)} | {_default(field)} | {field.description or ''} |")
        if nested is not None:
            out.extend(rows(nested, key + ".<name>."))
    return out


def render() -> str:
    return HEADER + "\n".join(rows(Config)) + "\n"


if __name__ == "__main__":
    (ROOT / "docs" / "configuration.md").write_text(render())
    print("wrote docs/configuration.md")
