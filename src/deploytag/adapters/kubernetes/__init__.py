"""The Kubernetes adapter: ``KubernetesCluster`` over the official ``kubernetes`` client.

Only this package imports the SDK, and only on the first request (see
``connection``), so ``deploytag.adapters.kubernetes:KubernetesCluster`` can be
named by an entry point and loaded without slowing the CLI's start.
"""

from deploytag.adapters.kubernetes.cluster import KubernetesCluster

__all__ = ["KubernetesCluster"]
