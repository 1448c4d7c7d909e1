"""Shared fixtures: the real helm binaries (Helm 4 and, when set up, Helm 3)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import kubernetes  # noqa: F401
import pytest

# Tests that talk to the SDK themselves need the whole of it. The adapter registers a narrow
# subset of the SDK when nothing has imported it yet (adapters/kubernetes/sdk.py), which would
# hide `kubernetes.client`'s models from tests that happen to run after an in-process adapter
# test; the CLI in a subprocess, as users run it, still takes the narrow path.

# A real moto_server for AWS (session-scoped, started only by tests that use it).
pytest_plugins = ["motofixtures", "servers.fixtures", "servers.plugin", "realkube", "realimages"]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "guestbook"


def helm_binaries() -> list[Path]:
    """Every helm we can test against: .tools/helm4, .tools/helm3, else the one on PATH."""
    found = [p for p in (ROOT / ".tools/helm4/helm", ROOT / ".tools/helm3/helm") if p.is_file()]
    if not found:
        on_path = shutil.which("helm")
        if on_path:
            found.append(Path(on_path))
    return found


# None where no helm is installed: helm_bin then skips its tests rather than dropping them.
HELM_PARAMS: list[Path | None] = [*helm_binaries()] or [None]


@pytest.fixture(params=HELM_PARAMS, ids=lambda p: p.parent.name if p else "no-helm")
def helm_bin(request: pytest.FixtureRequest) -> Path:
    """Each available helm in turn; the test is skipped where none is installed."""
    if request.param is None:
        pytest.skip("helm is not installed: run tools/setup.sh")
    return Path(request.param)


@pytest.fixture
def tools_path() -> str:
    """PATH with the repository's .tools/bin first, as the CLI sees it after setup."""
    return os.pathsep.join([str(ROOT / ".tools/bin"), os.environ.get("PATH", "")])
