"""`deploytag status`: one environment as the cluster records it (DESIGN: the cluster is the source of truth).

Everything comes from the namespace's labels and annotations, written by the
deploy steps: no extra state store, one read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from deploytag.capabilities.context import annotation
from deploytag.capabilities.namespace import check_branch
from deploytag.capabilities.registry import reporters
from deploytag.capabilities.status import recorded_json
from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig
from deploytag.core.errors import DeployTagError, NotFoundError
from deploytag.core.records import asdict
from deploytag.ports.providers import Providers
from deploytag.service.costs import environment_cost
from deploytag.service.environments import EnvironmentRow, environment_row
from deploytag.service.resolve import target_for

log = logging.getLogger(__name__)

STATUS_SCHEMA = "deploytag.status/v1"


@dataclass
class EnvironmentStatus:
    schema: str
    environment: EnvironmentRow
    deployed_at: str = ""
    tests: str = ""  # passed, skipped
    last_run: dict[str, Any] = field(default_factory=dict)  # run id, state, step outcomes
    images: dict[str, Any] = field(default_factory=dict)
    database: dict[str, Any] = field(default_factory=dict)
    dns: dict[str, Any] = field(default_factory=dict)
    secret_versions: dict[str, Any] = field(default_factory=dict)
    # The revision a rollback restores: {revision, commit}; empty before the first verified deploy.
    last_good: dict[str, Any] = field(default_factory=dict)
    # Estimated monthly cost from what the workloads request now (core.cost): cpu, memory_gib, monthly, currency.
    cost: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def status(*, loaded: LoadedConfig, providers: Providers, ref: BranchRef) -> EnvironmentStatus:
    names = target_for(ref, loaded).names
    if names is None:
        raise NotFoundError(
            f"branch {ref.branch!r} matches no deploy rule, so it has no environment",
            hint="see branches.previews and branches.permanent in deploytag.yaml",
        )
    ns = providers.cluster.get_namespace(name=names.namespace)
    if ns is None:
        raise NotFoundError(
            f"branch {ref.branch!r} has no environment (namespace {names.namespace} does not exist)",
            hint=f"deploy it with: deploytag deploy --branch {ref.branch}",
        )
    check_branch(ns, branch=ref.branch)  # never show another branch's environment as this one's
    a = ns.annotations
    result = EnvironmentStatus(
        schema=STATUS_SCHEMA,
        environment=environment_row(ns, ttl_hours=loaded.config.ttl_hours),
        deployed_at=a.get(annotation("deployed-at"), ""),
        last_run=recorded_json(a, "progress"),  # the runner's record
    )
    # Each capability reports what it recorded (tests, images, database, dns, secret versions).
    for capability in reporters():
        for key, value in capability.status(annotations=a).items():
            setattr(result, key, value)
    try:
        estimate = environment_cost(providers.cluster, loaded.config.cost, ns.name)
    except DeployTagError as e:  # the record is still worth showing; the estimate is extra
        log.warning("no cost estimate for %s: %s", ns.name, e)
        return result
    result.cost = estimate.to_dict()
    result.environment.monthly_cost, result.environment.currency = estimate.monthly, estimate.currency
    return result
