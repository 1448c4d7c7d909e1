"""Fixtures of the gc tests: the git hosts' HTTP double."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from githost import GitHostDouble, serve


@pytest.fixture
def githost() -> Iterator[GitHostDouble]:
    yield from serve(GitHostDouble())
