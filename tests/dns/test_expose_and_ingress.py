"""Address discovery (expose step) against the in-memory cluster, and the ingress values DeployTag injects."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploytag.adapters.memory.cluster import MemoryCluster
from deploytag.capabilities.chartvalues import ingress_values
from deploytag.capabilities.expose import discover_address
from deploytag.core.config import DnsTargetConfig, LoadedConfig, parse_config
from deploytag.core.errors import DnsError
from deploytag.core.naming import NamePlan, derive
from deploytag.ports.cluster import ServiceAddress
from deploytag.ports.dns import address_records


class StepClock:
    """Time moves only when slept: the wait is exercised without waiting."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return 1_800_000_000 + self.t

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(seconds, 0.001)


def cluster_with(namespace: str, *services: ServiceAddress) -> MemoryCluster:
    cluster = MemoryCluster()
    cluster.ensure_namespace(name=namespace, labels={}, annotations={})
    for service in services:
        cluster.add_service(namespace=namespace, service=service)
    return cluster


def test_auto_prefers_the_environments_load_balancer() -> None:
    cluster = cluster_with("env", ServiceAddress("web", "LoadBalancer", ("lb-1.elb.example.net",), (80,)))
    found = discover_address(cluster=cluster, clock=StepClock(), target=DnsTargetConfig(), namespace="env")
    assert found == ["lb-1.elb.example.net"]


def test_auto_falls_back_to_the_ingress_controller() -> None:
    cluster = cluster_with("env", ServiceAddress("web", "ClusterIP", (), (80,)))
    cluster.ensure_namespace(name="ingress-nginx", labels={}, annotations={})
    cluster.add_service(
        namespace="ingress-nginx",
        service=ServiceAddress("ingress-nginx-controller", "LoadBalancer", ("203.0.113.10",), (80, 443)),
    )
    found = discover_address(cluster=cluster, clock=StepClock(), target=DnsTargetConfig(), namespace="env")
    assert found == ["203.0.113.10"]


def test_waits_then_names_the_service_without_an_address() -> None:
    cluster = cluster_with("env", ServiceAddress("web", "LoadBalancer", (), (80,)))
    clock = StepClock()
    target = DnsTargetConfig(source="service", service="web", wait_seconds=30)
    with pytest.raises(DnsError, match=r"Service env/web has no load balancer address after 30 s"):
        discover_address(cluster=cluster, clock=clock, target=target, namespace="env")
    assert clock.t >= 30


def test_missing_ingress_controller_is_a_clear_error() -> None:
    cluster = cluster_with("env")
    target = DnsTargetConfig(source="ingress-controller", wait_seconds=0)
    with pytest.raises(DnsError, match=r"no Service ingress-nginx/ingress-nginx-controller .*dns.target"):
        discover_address(cluster=cluster, clock=StepClock(), target=target, namespace="env")


def test_fixed_address_skips_discovery() -> None:
    target = DnsTargetConfig(address="alb-7.example.net")
    assert discover_address(cluster=MemoryCluster(), clock=StepClock(), target=target, namespace="x") == [
        "alb-7.example.net"
    ]


def test_hostname_gives_cname_and_ips_give_a_and_aaaa() -> None:
    [cname] = address_records("w.example.com", ["LB.Example.NET."], ttl=60, proxied=None)
    assert (cname.type, cname.values) == ("CNAME", ("lb.example.net",))
    a, aaaa = address_records(
        "w.example.com", ["192.0.2.2", "2001:db8::1", "192.0.2.1"], ttl=60, proxied=None
    )
    assert (a.type, a.values, aaaa.type, aaaa.values) == (
        "A",
        ("192.0.2.1", "192.0.2.2"),
        "AAAA",
        ("2001:db8::1",),
    )


def loaded(dns: dict[str, object]) -> tuple[LoadedConfig, NamePlan]:
    cfg = parse_config({"app": "guestbook", "dns": {"provider": "rfc2136", "zone": "example.com", **dns}})
    names = derive(
        app="guestbook",
        branch="feature/login",
        commit="0" * 40,
        kind="preview",
        environment="preview",
        dns_templates=cfg.dns.records,
        dns_zone=cfg.dns.zone,
    )
    return LoadedConfig(config=cfg, root=Path("."), file=None), names


def test_ingress_hosts_and_cert_manager_tls_are_injected() -> None:
    cfg, names = loaded(
        {
            "records": ["{.Branch}-web"],
            "target": {"source": "ingress-controller"},
            "tls": {"cluster_issuer": "letsencrypt"},
        }
    )
    values = ingress_values(names, cfg)
    [host] = values["hosts"]
    assert host == "feature-login-web.example.com"  # '/' -> '-' alone adds no hash suffix
    assert values["enabled"] is True
    assert values["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    assert values["tls"] == [{"hosts": [host], "secretName": f"{names.release}-tls"}]


def test_wildcard_secret_and_own_load_balancer() -> None:
    cfg, names = loaded(
        {
            "records": ["{.Branch}-web"],
            "target": {"source": "service"},
            "tls": {"secret_name": "wildcard-example-com"},
        }
    )
    values = ingress_values(names, cfg)
    assert "enabled" not in values and "annotations" not in values
    assert values["tls"][0]["secretName"] == "wildcard-example-com"
