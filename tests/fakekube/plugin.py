"""pytest fixtures for fakekube.

Bring them into a test directory from its ``conftest.py``::

    from fakekube.plugin import fakekube, fakekube_module  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .server import FakeKube


@pytest.fixture
def fakekube(tmp_path: Path) -> Iterator[FakeKube]:
    """A fresh fake API server for one test; ``.kubeconfig`` is in the test's tmp_path."""
    with FakeKube(kubeconfig=tmp_path / "kubeconfig") as kube:
        yield kube


@pytest.fixture(scope="module")
def fakekube_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeKube]:
    """One fake API server shared by a test module (tests must not assume it is empty)."""
    with FakeKube(kubeconfig=tmp_path_factory.mktemp("fakekube") / "kubeconfig") as kube:
        yield kube
