"""The Kubernetes adapter: ``KubernetesCluster`` over the API server's REST API.

Requests go over ``transport`` (http.client and ssl); the official ``kubernetes``
client is imported only by the SDK fallback (``sdkfallback``: legacy auth-providers,
proxies), and only on the first request. Nothing is loaded before then (see
``connection``), so ``deploytag.adapters.kubernetes:KubernetesCluster`` can be
named by an entry point and loaded without slowing the CLI's start.
"""

from deploytag.adapters.kubernetes.cluster import KubernetesCluster

__all__ = ["KubernetesCluster"]
