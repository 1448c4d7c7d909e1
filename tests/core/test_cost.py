"""Cost arithmetic: Kubernetes quantities, per-pod requests, replicas x prices."""

from __future__ import annotations

from typing import Any

import pytest

from deploytag.adapters.kubernetes.convert import workload_usage
from deploytag.core.cost import GIB, Prices, Usage, estimate, pod_requests, quantity

PRICES = Prices(cpu_per_month=23.08, gib_per_month=3.09, currency="USD")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("250m", 0.25),
        ("0.5", 0.5),
        ("2", 2.0),
        ("1Gi", float(GIB)),
        ("512Mi", 512 * 1024**2),
        ("1G", 1e9),
        ("1e9", 1e9),
        ("128974848", 128974848.0),
        ("100k", 1e5),
        ("1.5Ki", 1536.0),
        (3, 3.0),
    ],
)
def test_quantities_as_the_api_server_reads_them(text: str | int, value: float) -> None:
    assert quantity(text) == pytest.approx(value)


@pytest.mark.parametrize("bad", ["", "1 Gi", "abc", "1gi", "1.2.3", "-"])
def test_not_a_quantity_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        quantity(bad)


def test_a_pod_requests_its_containers_or_its_largest_init_container() -> None:
    spec = {
        "containers": [
            {"resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}},
            {"resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}},  # request defaults to limit
            {"name": "no-resources"},
        ],
        "initContainers": [{"resources": {"requests": {"cpu": "1", "memory": "16Mi"}}}],
    }
    cpu, memory = pod_requests(spec)
    assert cpu == pytest.approx(1.0)  # the init container needs more CPU than the others together
    assert memory == 320 * 1024**2


def test_estimate_is_requests_times_replicas_times_prices() -> None:
    usages = [
        Usage(kind="Deployment", name="web", replicas=2, cpu=0.5, memory_bytes=GIB),
        Usage(kind="StatefulSet", name="db", replicas=1, cpu=1.0, memory_bytes=2 * GIB),
    ]
    cost = estimate(usages, PRICES)
    # 2 vCPU x 23.08 + 4 GiB x 3.09 = 46.16 + 12.36
    assert (cost.cpu, cost.memory_gib, cost.monthly, cost.currency) == (2.0, 4.0, 58.52, "USD")
    assert cost.to_dict() == {"cpu": 2.0, "memory_gib": 4.0, "monthly": 58.52, "currency": "USD"}


def test_a_sleeping_environment_costs_nothing() -> None:
    asleep = [Usage(kind="Deployment", name="web", replicas=0, cpu=4.0, memory_bytes=8 * GIB)]
    assert estimate(asleep, PRICES).monthly == 0.0
    assert estimate([], PRICES).monthly == 0.0


def _job(**spec: Any) -> dict[str, Any]:
    template = {"spec": {"containers": [{"resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]}}
    return {"metadata": {"name": "j"}, "spec": {"template": template, **spec}}


def test_jobs_count_while_they_run_and_cronjobs_as_an_upper_bound() -> None:
    running = workload_usage("Job", _job(parallelism=2))
    assert running is not None and running.replicas == 2
    done = _job()
    done["status"] = {"conditions": [{"type": "Complete", "status": "True"}]}
    finished = workload_usage("Job", done)
    assert finished is not None and finished.replicas == 0
    owned = _job()
    owned["metadata"]["ownerReferences"] = [{"kind": "CronJob", "name": "nightly"}]
    assert workload_usage("Job", owned) is None  # counted through its CronJob
    cron: dict[str, Any] = {"metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": _job()["spec"]}}}
    counted = workload_usage("CronJob", cron)
    assert counted is not None and (counted.replicas, counted.cpu) == (1, 1.0)
    cron["spec"]["suspend"] = True
    suspended = workload_usage("CronJob", cron)
    assert suspended is not None and suspended.replicas == 0
