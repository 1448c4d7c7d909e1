"""Shared by the direct transport's tests: the real cluster's admin context and two ServiceAccounts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubeauth import Admin, Identities, kubectl, make_identities

from realkube import RealKube


@pytest.fixture(scope="session")
def ids(real_kube: RealKube) -> Iterator[Identities]:
    made = make_identities(real_kube)
    yield made
    kubectl(real_kube, "delete", "namespace", made.namespace, "--wait=false")


@pytest.fixture(scope="session")
def admin(real_kube: RealKube) -> Admin:
    return Admin.of(real_kube)
