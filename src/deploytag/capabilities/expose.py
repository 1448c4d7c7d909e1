"""The expose step: the load balancer address the environment's DNS names point at.

Read from the shared ingress controller's Service (default ingress-nginx's) or
from a LoadBalancer Service in the environment's namespace, waiting until the
cloud's controller has filled ``status.loadBalancer.ingress``.
"""

from __future__ import annotations

from deploytag.capabilities.base import Capability, StepResult
from deploytag.capabilities.context import RunContext
from deploytag.capabilities.outputs import DnsTargets
from deploytag.core.config import DnsTargetConfig, LoadedConfig
from deploytag.core.errors import DnsError
from deploytag.core.naming import NamePlan
from deploytag.ports.clock import Clock
from deploytag.ports.cluster import Workloads
from deploytag.ports.progress import ProgressListener

DEFAULT_CONTROLLER = "ingress-nginx-controller"
POLL_SECONDS = 1.0


def discover_address(
    *,
    cluster: Workloads,
    clock: Clock,
    target: DnsTargetConfig,
    namespace: str,
    progress: ProgressListener | None = None,
    wait_seconds: int | None = None,
) -> list[str]:
    """Hostnames or IPs of the load balancer; DnsError naming the Service when none appears in time."""
    if target.address:
        return [target.address]
    source = target.source
    if source == "auto":
        own = [s for s in cluster.list_services(namespace=namespace) if s.type == "LoadBalancer"]
        source = "service" if own else "ingress-controller"
    name: str | None
    if source == "ingress-controller":
        ns, name = target.namespace, target.service or DEFAULT_CONTROLLER
    else:
        ns, name = namespace, None if target.source == "auto" else target.service
    what = f"Service {ns}/{name}" if name else f"a LoadBalancer Service in namespace {ns}"
    wait = target.wait_seconds if wait_seconds is None else wait_seconds
    deadline = clock.monotonic() + wait
    noted = False
    while True:
        services = cluster.list_services(namespace=ns)
        found = [s for s in services if (s.name == name if name else s.type == "LoadBalancer")]
        if found and found[0].hostnames:
            return list(found[0].hostnames)
        if clock.monotonic() >= deadline:
            if not found:
                raise DnsError(
                    f"no {what} to take the DNS target from",
                    hint="install the ingress controller, set dns.target (source, namespace, service), "
                    "or give the address with dns.target.address / --target",
                )
            raise DnsError(
                f"{what} has no load balancer address after {wait} s (status.loadBalancer.ingress is empty)",
                hint="check the cloud's load balancer controller (kubectl describe service), "
                "or raise dns.target.wait_seconds",
            )
        if progress is not None and not noted:
            progress.note(text=f"expose: waiting for a load balancer address on {what}")
            noted = True
        clock.sleep(min(POLL_SECONDS, max(0.0, deadline - clock.monotonic())))


class ExposeStep(Capability):
    """The load balancer address the DNS names point at; it goes with the release and the namespace."""

    name = "expose"
    provides = (DnsTargets,)

    def applies(self, *, loaded: LoadedConfig, names: NamePlan) -> bool:
        return loaded.config.dns.provider is not None and bool(names.dns_records)

    def ensure(self, *, ctx: RunContext) -> StepResult:
        cfg = ctx.loaded.config.dns
        if not self.applies(loaded=ctx.loaded, names=ctx.names):
            ctx.outputs.put(DnsTargets())
            return StepResult("skipped", "no dns.provider / dns.records")
        addresses = discover_address(
            cluster=ctx.providers.cluster,
            clock=ctx.providers.clock,
            target=cfg.target,
            namespace=ctx.names.namespace,
            progress=ctx.progress,
        )
        ctx.outputs.put(DnsTargets(tuple(addresses)))
        return StepResult("unchanged", ", ".join(addresses))
