"""DNS providers for the contract suite, each against its real server or the Cloudflare double.

Servers start once per session on loopback; each test gets a fresh name prefix
(BIND, moto) or an emptied double, so tests never see each other's records.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest
from dnsunder import DnsUnderTest

from deploytag.adapters.dns.cloudflare import CloudflareDns
from deploytag.adapters.dns.powerdns import PowerDnsDns
from deploytag.adapters.dns.rfc2136 import Rfc2136Dns
from deploytag.adapters.dns.route53 import Route53Dns
from servers import bind as bind_server
from servers import powerdns as powerdns_server
from servers.cloudflare import CloudflareDouble

_unique = itertools.count(1)


@pytest.fixture(scope="session")
def cloudflare_double() -> Iterator[CloudflareDouble]:
    double = CloudflareDouble(zone="example.com").start()
    yield double
    double.stop()


@pytest.fixture
def cloudflare(cloudflare_double: CloudflareDouble) -> CloudflareDouble:
    cloudflare_double.reset()
    return cloudflare_double


@pytest.fixture(scope="session")
def bind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[bind_server.Bind]:
    if not bind_server.available():
        pytest.skip(f"named / tsig-keygen not found: {bind_server.INSTALL_HINT}")
    server = bind_server.start_bind(tmp_path_factory.mktemp("bind"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def powerdns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[powerdns_server.PowerDns]:
    if not powerdns_server.available():
        pytest.skip(f"pdns_server / sqlite3 schema not found: {powerdns_server.INSTALL_HINT}")
    server = powerdns_server.start_powerdns(tmp_path_factory.mktemp("pdns"))
    yield server
    server.stop()


@pytest.fixture
def route53_zone(moto: str) -> tuple[str, str]:
    import boto3

    client = boto3.client("route53", endpoint_url=moto, region_name="us-east-1")
    zone = client.create_hosted_zone(Name="example.org.", CallerReference=f"t{next(_unique)}")
    return moto, zone["HostedZone"]["Id"].rsplit("/", 1)[-1]


def make_cloudflare(cloudflare: CloudflareDouble) -> DnsUnderTest:
    provider = CloudflareDns(
        zone="", zone_id=cloudflare.zone_id, token=cloudflare.token, base_url=cloudflare.base_url
    )
    return DnsUnderTest(provider, cloudflare.zone, f"t{next(_unique)}-")


def make_rfc2136(bind: bind_server.Bind) -> DnsUnderTest:
    provider = Rfc2136Dns(
        zone=bind.zone, server=bind.server, port=bind.port, key_name=bind.key_name, key_secret=bind.key_secret
    )
    return DnsUnderTest(provider, bind.zone, f"t{next(_unique)}-")


def make_route53(route53_zone: tuple[str, str]) -> DnsUnderTest:
    endpoint, _ = route53_zone
    return DnsUnderTest(
        Route53Dns(zone="example.org", endpoint_url=endpoint), "example.org", f"t{next(_unique)}-"
    )


def make_powerdns(server: powerdns_server.PowerDns) -> DnsUnderTest:
    provider = PowerDnsDns(
        zone=server.zone, url=server.url, api_key=server.api_key, server_id=server.server_id
    )
    return DnsUnderTest(provider, server.zone, f"t{next(_unique)}-")


@pytest.fixture(params=["cloudflare", "route53", "rfc2136", "powerdns"])
def dns(request: pytest.FixtureRequest) -> DnsUnderTest:
    """Each provider in turn; the contract suite runs against all of them."""
    makers: dict[str, Callable[[], DnsUnderTest]] = {
        "cloudflare": lambda: make_cloudflare(request.getfixturevalue("cloudflare")),
        "route53": lambda: make_route53(request.getfixturevalue("route53_zone")),
        "rfc2136": lambda: make_rfc2136(request.getfixturevalue("bind")),
        "powerdns": lambda: make_powerdns(request.getfixturevalue("powerdns")),
    }
    return makers[request.param]()
