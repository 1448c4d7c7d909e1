"""The session's real cluster answers as a real API server does, and its node (when there is one) is Ready."""

from __future__ import annotations

import os

import kubernetes
import pytest

from realkube import RealKube


def _api(kube: RealKube) -> kubernetes.client.ApiClient:
    return kubernetes.config.new_client_from_config(
        config_file=str(kube.kubeconfig), context=kube.context, persist_config=False
    )


def test_real_api_server_answers_with_its_version(real_kube: RealKube) -> None:
    version = kubernetes.client.VersionApi(_api(real_kube)).get_code()
    if not os.environ.get("DEPLOYTAG_TEST_KUBECONFIG"):
        assert version.git_version.startswith("v1.36."), version.git_version


def test_real_admission_rejects_an_invalid_name(real_kube: RealKube) -> None:
    core = kubernetes.client.CoreV1Api(_api(real_kube))
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Not_A_DNS_Name"}}
    with pytest.raises(kubernetes.client.ApiException) as caught:
        core.create_namespaced_config_map(namespace="default", body=body)
    assert caught.value.status == 422


def test_real_node_is_ready(real_node: RealKube) -> None:
    nodes = kubernetes.client.CoreV1Api(_api(real_node)).list_node().items
    ready = [
        n.metadata.name
        for n in nodes
        if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])
    ]
    assert ready, [n.metadata.name for n in nodes]
