"""``HelmBinary.head`` reads the newest revision from Helm's Secrets; it must agree with
`helm status` in every state a no-op check meets, for Helm 3 and Helm 4, on the real API server.

The chart is ConfigMaps only, so releases are ready on the bare control plane; a ``bad`` value
adds a Service the API server refuses, so helm records that revision ``failed``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from deploytag.adapters.common.process import SubprocessRunner
from deploytag.adapters.helm.binary import HelmBinary
from deploytag.adapters.kubernetes.cluster import KubernetesCluster
from deploytag.core.errors import ReleaseError, ToolMissingError
from deploytag.ports.helm import KubeTarget
from realkube import RealKube

pytestmark = [pytest.mark.helm, pytest.mark.cluster]

TEMPLATE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: note
data:
  note: {{ .Values.note | quote }}
{{- if .Values.bad }}
---
apiVersion: v1
kind: Service
metadata:
  name: bad
spec:
  ports: [{port: 700000}]
{{- end }}
"""


def chart(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: notes\nversion: 0.1.0\n")
    (root / "values.yaml").write_text("note: ''\nbad: false\n")
    (root / "templates" / "note.yaml").write_text(TEMPLATE)
    return root


@pytest.fixture
def kube(real_kube: RealKube) -> KubernetesCluster:
    return KubernetesCluster(kubeconfig=str(real_kube.kubeconfig), context=real_kube.context)


def storage_only(kube: KubernetesCluster) -> HelmBinary:
    """No helm binary at all: ``head`` can answer only from Helm's Secrets."""
    return HelmBinary(
        runner=SubprocessRunner(),
        binary="/nonexistent/helm",
        secret_labels=lambda ns, sel: [s.labels for s in kube.list_secrets(namespace=ns, label_selector=sel)],
    )


@pytest.mark.parametrize("driver", ["", "configmap"])
def test_head_agrees_with_helm_status(
    helm_bin: Path, real_kube: RealKube, kube: KubernetesCluster, tmp_path: Path, driver: str
) -> None:
    namespace = f"dt-store-{secrets.token_hex(4)}"
    environ = {"HELM_DRIVER": driver} if driver else {}
    runner = SubprocessRunner(environ={**os.environ, **environ})
    helm = HelmBinary(
        runner=runner,
        binary=str(helm_bin),
        secret_labels=lambda ns, sel: [s.labels for s in kube.list_secrets(namespace=ns, label_selector=sel)],
        driver=driver,
    )
    target = KubeTarget(kubeconfig=str(real_kube.kubeconfig), context=real_kube.context)
    kube.ensure_namespace(name=namespace, labels={}, annotations={})
    try:

        def head_and_status() -> tuple[tuple[int, str] | None, tuple[int, str] | None]:
            head = helm.head(release="notes", namespace=namespace, target=target)
            status = helm.status(release="notes", namespace=namespace, target=target)
            return (
                (head.revision, head.status) if head else None,
                (status.revision, status.status) if status else None,
            )

        assert head_and_status() == (None, None)
        app = chart(tmp_path)
        for note, bad in (("one", False), ("two", False), ("three", True)):
            try:
                helm.upgrade_install(
                    chart=app,
                    release="notes",
                    namespace=namespace,
                    values_files=[],
                    values={"note": note, "bad": bad},
                    wait=False,
                    timeout_seconds=60,
                    atomic=False,
                    target=target,
                )
            except ReleaseError:
                assert bad
            head, status = head_and_status()
            assert head == status
        assert head == (3, "failed")
        # Kept in Secrets, the records answer without starting helm; kept in ConfigMaps (another
        # driver) there are none, so head has to start helm.
        if driver:
            with pytest.raises(ToolMissingError):
                storage_only(kube).head(release="notes", namespace=namespace, target=target)
        else:
            found = storage_only(kube).head(release="notes", namespace=namespace, target=target)
            assert found is not None and (found.revision, found.status) == (3, "failed")
    finally:
        kube.delete_namespace(name=namespace, wait=False, timeout_seconds=30)
