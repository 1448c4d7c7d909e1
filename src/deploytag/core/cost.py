"""Estimated monthly cost of an environment, from what its workloads request.

The estimate is requests x replicas x price: what a cluster bills for when
nodes are sized to requests (a scheduler reserves requests, not usage). CPU is
priced per vCPU-month, memory per GiB-month (``cost.*`` in deploytag.yaml,
docs/configuration.md says where the defaults come from). A sleeping
environment (every workload at 0 replicas) costs 0.

Kubernetes resource quantities are parsed here (``250m``, ``0.5``, ``512Mi``,
``1G``, ``1e9``), so adapters report numbers and this module does the sums.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

GIB = 1024**3

# Suffixes of resource.Quantity: binary (Ki..Ei), decimal (n..E); "m" is milli.
_SUFFIXES: dict[str, Decimal] = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    **{s: Decimal(1024**i) for i, s in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"), start=1)},
}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$")


def quantity(text: str | int | float) -> float:
    """A Kubernetes quantity as a plain number (``250m`` -> 0.25, ``1Gi`` -> 1073741824).

    Raises ValueError for anything the API server would not accept.
    """
    if isinstance(text, int | float):
        return float(text)
    match = _QUANTITY.match(text.strip())
    if match is None:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    number, suffix = match.groups()
    try:
        return float(Decimal(number) * _SUFFIXES[suffix])
    except InvalidOperation as e:  # pragma: no cover - the pattern admits only numbers
        raise ValueError(f"not a Kubernetes quantity: {text!r}") from e


class Prices(msgspec.Struct, frozen=True):
    cpu_per_month: float  # per vCPU requested for a month
    gib_per_month: float  # per GiB of memory requested for a month
    currency: str


class Usage(msgspec.Struct, frozen=True):
    """One workload's requests: per pod, and how many pods it keeps."""

    kind: str  # Deployment, StatefulSet, Job, CronJob
    name: str
    replicas: int  # pods it keeps running: replicas, a Job's parallelism; 0 asleep or finished
    cpu: float  # vCPU per pod
    memory_bytes: float  # per pod
    namespace: str = ""


class CostEstimate(msgspec.Struct, frozen=True):
    cpu: float  # vCPU requested in total
    memory_gib: float  # GiB requested in total
    monthly: float  # in ``currency``, rounded to cents
    currency: str

    def to_dict(self) -> dict[str, float | str]:
        return {
            "cpu": self.cpu,
            "memory_gib": self.memory_gib,
            "monthly": self.monthly,
            "currency": self.currency,
        }

    def text(self) -> str:
        return f"~{self.monthly:.2f} {self.currency}/month ({self.cpu:g} vCPU, {self.memory_gib:g} GiB requested)"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CostEstimate:
        """The inverse of ``to_dict``: reports carry the dict, renderers want the text."""
        return cls(
            cpu=float(data["cpu"]),
            memory_gib=float(data["memory_gib"]),
            monthly=float(data["monthly"]),
            currency=str(data["currency"]),
        )


def pod_requests(spec: dict[str, Any]) -> tuple[float, float]:
    """(vCPU, bytes) one pod of this pod spec requests, as the scheduler counts them.

    Per resource: the sum over containers, or the largest init container if that
    is more (init containers run one at a time, before the others). A container
    with a limit and no request requests its limit (the API server's default).
    """

    def of(container: Any, resource: str) -> float:
        resources = (container or {}).get("resources") or {}
        value = (resources.get("requests") or {}).get(resource)
        if value is None:
            value = (resources.get("limits") or {}).get(resource)
        return quantity(value) if value is not None else 0.0

    def effective(resource: str) -> float:
        regular = sum(of(c, resource) for c in spec.get("containers") or [])
        init = max((of(c, resource) for c in spec.get("initContainers") or []), default=0.0)
        return max(regular, init)

    return effective("cpu"), effective("memory")


def estimate(usages: Iterable[Usage], prices: Prices) -> CostEstimate:
    running = [u for u in usages if u.replicas > 0]
    cpu = sum(u.cpu * u.replicas for u in running)
    memory = sum(u.memory_bytes * u.replicas for u in running) / GIB
    monthly = cpu * prices.cpu_per_month + memory * prices.gib_per_month
    return CostEstimate(
        cpu=round(cpu, 3), memory_gib=round(memory, 3), monthly=round(monthly, 2), currency=prices.currency
    )
