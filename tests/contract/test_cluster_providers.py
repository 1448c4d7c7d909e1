"""Both Cluster implementations are found by provider name and built from configuration alone."""

from __future__ import annotations

from pathlib import Path

from deploytag.adapters.kubernetes import KubernetesCluster
from deploytag.adapters.memory.cluster import MemoryCluster
from deploytag.adapters.plugins import load_provider
from deploytag.core.config import ClusterConfig


def test_memory_provider() -> None:
    cluster = load_provider("deploytag.clusters", "memory").from_config(
        config=ClusterConfig(provider="memory")
    )
    assert isinstance(cluster, MemoryCluster)
    assert cluster.get_namespace(name="default") is not None  # Leases live there by default


def test_kubernetes_provider_takes_kubeconfig_and_context(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        "clusters: [{name: c, cluster: {server: 'https://203.0.113.7:6443'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: one, context: {cluster: c, user: u}}, {name: two, context: {cluster: c, user: u}}]\n"
        "current-context: one\n"
    )
    config = ClusterConfig(kubeconfig=str(path), context="two")
    cluster = load_provider("deploytag.clusters", "kubernetes").from_config(config=config)
    assert isinstance(cluster, KubernetesCluster)
    assert cluster.describe() == "context two (https://203.0.113.7:6443)"  # no request is made
