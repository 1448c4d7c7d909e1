"""Every provider settings module imports on its own, in a fresh interpreter.

The config schema imports these modules, and they import the settings base. A base inside
``core.config`` made the first import of an adapter's settings a circular import.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
SETTINGS = sorted(
    ".".join(path.relative_to(SRC).with_suffix("").parts)
    for path in (SRC / "deploytag" / "adapters").glob("*/settings.py")
)


def test_there_are_settings_modules() -> None:
    assert "deploytag.adapters.images.settings" in SETTINGS


@pytest.mark.parametrize("module", SETTINGS)
def test_settings_module_imports_alone(module: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
