"""Fixtures for the Helm adapter and values tests: the real helm and a copy of the test charts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helmtesting import CHARTS, RecordingRunner

from deploytag.adapters.helm.binary import HelmBinary


@pytest.fixture
def runner() -> RecordingRunner:
    return RecordingRunner()


@pytest.fixture
def helm(helm_bin: Path, runner: RecordingRunner) -> HelmBinary:
    return HelmBinary(runner=runner, binary=str(helm_bin))


@pytest.fixture
def charts(tmp_path: Path) -> Path:
    """A private copy of tests/helm/charts: dependency build writes into the chart."""
    target = tmp_path / "charts"
    shutil.copytree(CHARTS, target)
    return target
