"""DNS providers for the contract suite, each against its real server or the Cloudflare double.

Servers start once per session on loopback; each test gets a fresh name prefix
(BIND, moto) or an emptied double, so tests never see each other's records.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dnsunder import DnsUnderTest

from deploytag.adapters.plugins import available, load_provider
from deploytag.core.config import DnsConfig
from deploytag.core.settingsmodel import convert
from deploytag.ports.factories import DnsProviderFactory
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


# How the contract suite reaches each provider's server, by entry point name: the
# ``dns`` section and the credentials its factory is built from (as ``deploytag``
# builds it), and the zone. A provider's entry point without a backend here fails.
Backend = tuple[dict[str, Any], dict[str, str], str]
BACKENDS: dict[str, Callable[[pytest.FixtureRequest], Backend]] = {
    "cloudflare": lambda request: cloudflare_backend(request.getfixturevalue("cloudflare")),
    "route53": lambda request: route53_backend(request.getfixturevalue("route53_zone")),
    "rfc2136": lambda request: rfc2136_backend(request.getfixturevalue("bind")),
    "powerdns": lambda request: powerdns_backend(request.getfixturevalue("powerdns")),
}


def cloudflare_backend(cloudflare: CloudflareDouble) -> Backend:
    settings = {"zone_id": cloudflare.zone_id, "cloudflare": {"base_url": cloudflare.base_url}}
    return settings, {"CLOUDFLARE_API_TOKEN": cloudflare.token}, cloudflare.zone


def rfc2136_backend(bind: bind_server.Bind) -> Backend:
    settings = {
        "zone": bind.zone,
        "rfc2136": {"server": bind.server, "port": bind.port, "key_name": bind.key_name},
    }
    return settings, {"DNS_TSIG_SECRET": bind.key_secret}, bind.zone


def route53_backend(route53_zone: tuple[str, str]) -> Backend:
    endpoint, _ = route53_zone
    return {"zone": "example.org", "route53": {"endpoint_url": endpoint}}, {}, "example.org"


def powerdns_backend(server: powerdns_server.PowerDns) -> Backend:
    settings = {"zone": server.zone, "powerdns": {"url": server.url, "server_id": server.server_id}}
    return settings, {"PDNS_API_KEY": server.api_key}, server.zone


def make_provider(name: str, request: pytest.FixtureRequest) -> DnsUnderTest:
    """The provider registered as ``name``, built through its entry point and factory."""
    backend = BACKENDS.get(name)
    if backend is None:
        pytest.fail(f"DNS provider {name!r} has an entry point but no backend in tests/dns/conftest.py")
    settings, credentials, zone = backend(request)
    factory: DnsProviderFactory = load_provider("deploytag.dns", name)
    provider = factory.from_config(
        config=convert({"provider": name, **settings}, DnsConfig), credentials=credentials
    )
    return DnsUnderTest(provider, zone, f"t{next(_unique)}-")


@pytest.fixture(params=sorted(available("deploytag.dns")))
def dns(request: pytest.FixtureRequest) -> DnsUnderTest:
    """Each provider in turn, as the entry points list them; the contract suite runs against all."""
    return make_provider(request.param, request)
