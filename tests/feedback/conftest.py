"""Fixtures for the feedback tests: the local HTTP double of GitHub and GitLab, and a run's pieces."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from double import Double, serve
from helpers import RecordingClock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e_real"))  # realapp, for the CLI tests


@pytest.fixture
def double() -> Iterator[Double]:
    # Shaped like a real token so the generic token patterns would not hide a leak.
    yield from serve(Double(token=f"ghp_{secrets.token_hex(18)}"))


@pytest.fixture
def clock() -> RecordingClock:
    return RecordingClock()
