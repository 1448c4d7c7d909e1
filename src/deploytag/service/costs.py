"""Estimated monthly cost of environments, from their workloads' requests (core.cost) and ``cost.*``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from deploytag.core.config.schema import CostConfig
from deploytag.core.cost import CostEstimate, Prices, Usage, estimate
from deploytag.ports.cluster import Workloads


def prices(cost: CostConfig) -> Prices:
    return Prices(cpu_per_month=cost.cpu_per_month, gib_per_month=cost.gib_per_month, currency=cost.currency)


def environment_cost(cluster: Workloads, cost: CostConfig, namespace: str) -> CostEstimate:
    return estimate(cluster.list_resource_requests(namespace=namespace), prices(cost))


def costs_by_namespace(
    cluster: Workloads, cost: CostConfig, namespaces: Iterable[str]
) -> dict[str, CostEstimate]:
    """Every namespace's estimate from one list per workload kind across the cluster, not one per namespace."""
    wanted = set(namespaces)
    if not wanted:
        return {}
    usages: dict[str, list[Usage]] = defaultdict(list)
    for usage in cluster.list_resource_requests(namespace=None):
        if usage.namespace in wanted:
            usages[usage.namespace].append(usage)
    return {name: estimate(usages[name], prices(cost)) for name in wanted}
