"""A no-op redeploy on the real control plane imports nothing it does not use: on a client-certificate
or token kubeconfig the direct transport (http.client + ssl) talks to the API server, so neither the
official Kubernetes client nor urllib3 is imported, nor requests/oauthlib nor other providers' SDKs
(bench/redeploy.py measures the time). The SDK fallback is tests/kubetransport's and
tests/contract/test_kubernetes_errors.py's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from realapp import RealApp, destroy, make_app

from importprobe import loaded, probe_imports, requests_by, started_by
from realkube import RealKube

pytestmark = pytest.mark.cluster

NOT_FOR_A_NOOP_DEPLOY = [
    "deploytag.service.destroy",
    "deploytag.service.rollback",
    "deploytag.service.build",
    "deploytag.adapters.images.buildah",  # no images configured: no builder, no registry client
    "deploytag.adapters.images.docker",
    "deploytag.adapters.images.kaniko",
    "deploytag.adapters.images.registry_v2",
    "deploytag.adapters.secrets.aws",
    "deploytag.adapters.databases.postgres",
    "deploytag.adapters.databases.mysql",
    "kubernetes",  # the official client: only the SDK fallback (auth-provider, proxies) loads it
    "urllib3",
    "six",
    "deploytag.adapters.kubernetes.sdkfallback",
    "requests",
    "oauthlib",
    "requests_oauthlib",
    "dateutil",
    "boto3",
    "botocore",
    "psycopg",
    "pymysql",
    "dns",
    "cloudflare",
    "importlib.metadata",  # DeployTag's own entry points are read directly (and feedback's, off CI)
    "pydantic",  # the config schema is msgspec Structs (issue 11)
    "pydantic_core",
]

# Its records are msgspec Structs (a class ~0.05 ms to create, a dataclass 0.3-0.5 ms); these stay
# dataclasses: the report (serialised with dataclasses.asdict) and records hiding a secret from repr.
TRANSPORT = "deploytag.adapters.kubernetes."  # the Kubernetes adapter's own records: left to that package
NOOP_DEPLOY_DATACLASSES = [
    "deploytag.capabilities.outputs.DatabaseConnection",
    "deploytag.ports.images.RegistryCredentials",
    "deploytag.ports.secrets.SecretBundle",
    "deploytag.service.deploy.DeployReport",
]


@pytest.fixture
def app(tmp_path: Path, real_kube: RealKube) -> Iterator[RealApp]:
    made = make_app(tmp_path, real_kube.kubeconfig, commits=1)
    yield made
    destroy(made)


def test_noop_deploy_imports_only_what_it_uses(app: RealApp) -> None:
    commit = app.commits[-1]
    first = app.deploy(commit)
    assert first.returncode == 0, first.stderr
    run = probe_imports(app.argv(*app.deploy_args(commit))[1:], env=app.env())
    status, modules = run.status, run.modules
    assert status == 0
    assert "deploytag.adapters.kubernetes.cluster" in modules  # it did talk to the cluster
    assert "deploytag.adapters.kubernetes.transport" in modules  # through the direct transport
    assert "deploytag.capabilities.release" in modules
    assert loaded(modules, NOT_FOR_A_NOOP_DEPLOY) == []
    assert [c for c in run.dataclasses if not c.startswith(TRANSPORT)] == NOOP_DEPLOY_DATACLASSES


def test_noop_deploy_starts_no_git_and_no_helm_release_command(app: RealApp) -> None:
    """The author is looked up only for a new preview, and the current revision is read from
    Helm's records: a redeploy with nothing changed starts neither git nor `helm status`."""
    commit = app.commits[-1]
    first = app.deploy(commit)
    assert first.returncode == 0, first.stderr
    status, started = started_by(app.argv(*app.deploy_args(commit))[1:], env=app.env())
    assert status == 0
    assert [p for p in started if p[0] != "helm" or p[1] != "version"] == []


def test_noop_deploy_writes_only_its_lease_and_its_outcome(app: RealApp) -> None:
    """Nothing changed: the namespace, the quota and the release are only read. The writes are
    the lease (taken, renewed, given back) and one patch of the namespace recording the run."""
    commit = app.commits[-1]
    first = app.deploy(commit)
    assert first.returncode == 0, first.stderr
    status, sent = requests_by(app.argv(*app.deploy_args(commit))[1:], env=app.env())
    assert status == 0
    writes = [(method, path) for method, path in sent if method != "GET"]
    namespace = f"/api/v1/namespaces/{app.app}-feature-order"
    assert [w for w in writes if "/leases" not in w[1]] == [("PATCH", namespace)], sent
