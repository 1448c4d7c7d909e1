"""The ordered registry of capabilities: deploy runs it forwards, destroy backwards, plan and status read it.

Each entry names its module and class; the module is imported only when a
command asks for that capability, so `deploytag --help` imports none of them.
The order is the deploy order, checked against what each capability needs and
provides when a pipeline is built (``build``):

- images first: a failed build must leave the cluster untouched;
- the database before the Secret that carries its connection, migrated before the release;
- DNS before verify: the load balancer exists once the release is applied, and
  resolvers pick the names up while the rollout is still becoming ready.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from deploytag.capabilities.base import Capability


class Entry(msgspec.Struct, frozen=True):
    name: str  # the step name in progress lines, reports and the recorded progress
    module: str  # under deploytag.capabilities
    cls: str
    # Whether the class has a plan / status part: `plan` and `status` import only those modules
    # (tests/capabilities checks these flags against the classes).
    plans: bool = False
    reports: bool = False


REGISTRY: tuple[Entry, ...] = (
    Entry("test", "testgate", "TestGate", reports=True),
    Entry("base", "images", "BaseImageStep", plans=True, reports=True),
    Entry("image", "images", "AppImageStep"),
    Entry("namespace", "namespace", "NamespaceStep"),
    Entry("quota", "namespace", "QuotaStep"),
    Entry("database", "database", "DatabaseStep", plans=True, reports=True),
    Entry("secrets", "secrets", "SecretsStep", plans=True, reports=True),
    Entry("migrate", "migrate", "MigrateStep"),
    Entry("release", "release", "ReleaseStep", plans=True, reports=True),
    Entry("expose", "expose", "ExposeStep"),
    Entry("dns", "dns", "DnsStep", plans=True, reports=True),
    Entry("verify", "verify", "VerifyStep"),
)

TEST_GATE = "test"  # deploy runs it before taking the lease: a failing test waits for nobody
NAMES = tuple(e.name for e in REGISTRY)  # as shipped; names() reads the registry as it is now

# The order of the read-only checks: local files first (chart, values, Dockerfiles), then the
# servers that answer slowly or need credentials. Destroy's checks follow it too.
CHECK_ORDER = ("release", "secrets", "base", "dns", "database", "migrate")


class PipelineOrderError(RuntimeError):
    """A capability needs an output that no capability before it provides."""


def names() -> tuple[str, ...]:
    return tuple(e.name for e in REGISTRY)


def load(name: str) -> Capability:
    """The capability called ``name``, its module imported now."""
    for entry in REGISTRY:
        if entry.name == name:
            module = importlib.import_module(f"deploytag.capabilities.{entry.module}")
            capability: Any = getattr(module, entry.cls)()
            assert isinstance(capability, Capability)
            return capability
    raise KeyError(f"no capability named {name!r}; known: {', '.join(names())}")


def build(wanted: Iterable[str] | None = None, *, given: Sequence[type[Any]] = ()) -> list[Capability]:
    """The ``wanted`` capabilities (default all) in registry order, checked: every output needed is
    provided earlier. ``given`` are outputs that exist before the first of them runs.
    """
    order = names()
    chosen = set(order if wanted is None else wanted)
    unknown = chosen - set(order)
    if unknown:
        raise KeyError(f"no capability named {sorted(unknown)[0]!r}; known: {', '.join(order)}")
    pipeline = [load(name) for name in order if name in chosen]
    check_order(pipeline, given=given)
    return pipeline


def planners() -> list[Capability]:
    """The capabilities with a part in `deploytag plan`, in registry order (nothing runs: no order check)."""
    return [load(e.name) for e in REGISTRY if e.plans]


def reporters() -> list[Capability]:
    """The capabilities with a part in `deploytag status`, in registry order."""
    return [load(e.name) for e in REGISTRY if e.reports]


def check_order(pipeline: Sequence[Capability], *, given: Sequence[type[Any]] = ()) -> None:
    """Raise PipelineOrderError naming the first capability whose needs nothing before it provides."""
    available: dict[type[Any], str] = dict.fromkeys(given, "(given)")
    for capability in pipeline:
        for kind in capability.needs:
            if kind not in available:
                later = [c.name for c in pipeline if kind in c.provides]
                where = f"; {later[0]} provides it but runs later" if later else "; nothing provides it"
                raise PipelineOrderError(
                    f"capability {capability.name!r} needs {kind.__name__}, which no capability before "
                    f"it provides{where}"
                )
        for kind in capability.provides:
            available.setdefault(kind, capability.name)


def in_check_order(pipeline: Sequence[Capability]) -> list[Capability]:
    """``pipeline`` in the order its checks run: CHECK_ORDER first, then the rest in registry order."""
    by_name = {c.name: c for c in pipeline}
    first = [by_name[name] for name in CHECK_ORDER if name in by_name]
    return first + [c for c in pipeline if c.name not in CHECK_ORDER]
