"""Make packages named in DEPLOYTAG_TEST_HIDE_PACKAGES look uninstalled, for a whole CLI process.

On PYTHONPATH, Python's site module imports this at start-up; the finder placed first
on sys.meta_path refuses those top-level packages (and their submodules) exactly as
Python reports a package that is not installed. Nothing is mocked: the real code
runs and the real import fails.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

HIDDEN = frozenset(filter(None, os.environ.get("DEPLOYTAG_TEST_HIDE_PACKAGES", "").split(",")))


class HidePackages:
    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


if HIDDEN:
    sys.meta_path.insert(0, HidePackages())
