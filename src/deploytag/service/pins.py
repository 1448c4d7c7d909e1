"""`deploytag pin` / `unpin`: keep a preview past its TTL, for a while or until unpinned.

A pin is one annotation on the namespace (``deploytag.dev/pinned-until``: an RFC 3339
time or ``forever``); gc does not expire a pinned preview by TTL until the pin ends. A pin
does not keep an environment whose branch is gone or whose pull request was closed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from deploytag.capabilities.context import annotation
from deploytag.core.branch import BranchRef
from deploytag.core.config import LoadedConfig
from deploytag.core.errors import NotFoundError, PlanError
from deploytag.core.timestamps import rfc3339
from deploytag.ports.cluster import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from deploytag.ports.providers import Providers
from deploytag.service.expiry import EXPIRING, FOREVER, PINNED_UNTIL, expiry_of
from deploytag.service.resolve import target_for

PIN_SCHEMA = "deploytag.pin/v1"


@dataclass
class PinReport:
    schema: str
    branch: str
    namespace: str
    pinned_until: str  # "forever", RFC 3339, or "" after unpin
    expires_at: str  # as gc now sees it: RFC 3339 or "never"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def pin(*, loaded: LoadedConfig, providers: Providers, ref: BranchRef, until: float | None) -> PinReport:
    """Pin until the epoch ``until``, or indefinitely when it is None."""
    return _set(loaded, providers, ref, FOREVER if until is None else rfc3339(until))


def unpin(*, loaded: LoadedConfig, providers: Providers, ref: BranchRef) -> PinReport:
    return _set(loaded, providers, ref, None)


def _set(loaded: LoadedConfig, providers: Providers, ref: BranchRef, value: str | None) -> PinReport:
    names = target_for(ref, loaded).names
    if names is None:
        raise NotFoundError(
            f"branch {ref.branch!r} matches no deploy rule, so it has no environment to pin",
            hint="see branches.previews in deploytag.yaml",
        )
    if names.kind == "permanent":
        raise PlanError(
            f"{names.namespace} is the permanent {names.environment} environment: it never expires",
            hint="pin previews only",
        )
    cluster = providers.cluster
    ns = cluster.get_namespace(name=names.namespace)
    if ns is None:
        raise NotFoundError(
            f"branch {ref.branch!r} has no environment (namespace {names.namespace} does not exist)",
            hint=f"deploy it first: deploytag deploy --branch {ref.branch}",
        )
    recorded = ns.annotations.get(annotation("branch"))
    if ns.labels.get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE or (
        recorded is not None and recorded != ref.branch
    ):
        raise PlanError(
            f"namespace {names.namespace} is not branch {ref.branch!r}'s DeployTag environment",
            hint="pass the branch that namespace was deployed for",
        )
    # The expiring mark is gc's to set again: a pin (or its end) changes when the preview expires.
    ns = cluster.patch_namespace_annotations(
        name=names.namespace, annotations={PINNED_UNTIL: value, EXPIRING: None}
    )
    expiry = expiry_of(ns, ttl_hours=loaded.config.ttl_hours)
    return PinReport(
        schema=PIN_SCHEMA,
        branch=ref.branch,
        namespace=names.namespace,
        pinned_until=expiry.pinned_until,
        expires_at=expiry.expires_text,
    )
