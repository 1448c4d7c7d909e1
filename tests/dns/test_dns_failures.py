"""Bad input and failing providers: a clear message naming the record, nothing of anyone else's changed."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import dns.message
import dns.query
import dns.rdatatype
import pytest

from deploytag.adapters.dns.cloudflare import CloudflareDns
from deploytag.adapters.dns.powerdns import PowerDnsDns
from deploytag.adapters.dns.rfc2136 import Rfc2136Dns
from deploytag.adapters.dns.route53 import Route53Dns
from deploytag.capabilities.dns import ensure_records
from deploytag.core.dnsowner import Owner
from deploytag.core.errors import DnsError, RetryableDnsError
from deploytag.ports.dns import DnsRecord
from servers.bind import Bind
from servers.cloudflare import CloudflareDouble
from servers.powerdns import PowerDns

OURS = Owner(app="guestbook", branch="feature/login")
WRONG_SECRET = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktMDA="


def query(bind: Bind, name: str, rtype: str) -> list[str]:
    """Read back with plain dnspython, independent of the adapter."""
    answer = dns.query.udp(dns.message.make_query(name, rtype), bind.server, port=bind.port, timeout=5)
    return [
        rd.to_text()
        for rrset in answer.answer
        if rrset.rdtype == dns.rdatatype.from_text(rtype)
        for rd in rrset
    ]


def test_bind_holds_what_the_adapter_wrote(bind: Bind) -> None:
    provider = Rfc2136Dns(
        zone=bind.zone, server=bind.server, port=bind.port, key_name=bind.key_name, key_secret=bind.key_secret
    )
    name = f"readback.{bind.zone}"
    ensure_records(provider, names=[name], targets=["192.0.2.44"], owner=OURS, ttl=300, proxied=None)
    assert query(bind, name, "A") == ["192.0.2.44"]
    assert query(bind, f"dt-{name}", "TXT") == [f'"{OURS.text()}"']


def test_bind_zone_file_record_is_not_ours(bind: Bind) -> None:
    provider = Rfc2136Dns(
        zone=bind.zone, server=bind.server, port=bind.port, key_name=bind.key_name, key_secret=bind.key_secret
    )
    name = f"taken.{bind.zone}"
    with pytest.raises(DnsError, match=rf"DNS record {name} exists and was not created by DeployTag"):
        ensure_records(provider, names=[name], targets=["lb.example.net"], owner=OURS, ttl=300, proxied=None)
    assert query(bind, name, "CNAME") == ["elsewhere.example.net."]


def test_wrong_tsig_key_names_the_record_and_changes_nothing(bind: Bind) -> None:
    provider = Rfc2136Dns(
        zone=bind.zone, server=bind.server, port=bind.port, key_name=bind.key_name, key_secret=WRONG_SECRET
    )
    name = f"wrongkey.{bind.zone}"
    with pytest.raises(DnsError, match=rf"writing DNS record dt-{name} .*rejected the TSIG key") as info:
        ensure_records(provider, names=[name], targets=["lb.example.net"], owner=OURS, ttl=300, proxied=None)
    assert WRONG_SECRET not in str(info.value) and bind.key_secret not in str(info.value)
    assert query(bind, name, "CNAME") == [] and query(bind, f"dt-{name}", "TXT") == []


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts TCP connections and never answers: a name server that hangs."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        held: list[socket.socket] = []
        stop = threading.Event()

        def accept() -> None:
            s.settimeout(0.2)
            while not stop.is_set():
                try:
                    held.append(s.accept()[0])
                except OSError:
                    continue

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        yield int(s.getsockname()[1])
        stop.set()
        thread.join()
        for conn in held:
            conn.close()


def test_rfc2136_timeout_is_retryable_and_names_the_record(silent_server: int) -> None:
    provider = Rfc2136Dns(zone="example.test", server="127.0.0.1", port=silent_server, timeout=0.5)
    with pytest.raises(
        RetryableDnsError, match=r"querying DNS record web.example.test .*did not answer within 0.5 s"
    ):
        provider.list_records(name="web.example.test")


def test_cloudflare_wrong_token_names_the_record_and_hides_the_token(cloudflare: CloudflareDouble) -> None:
    cloudflare.add("web.example.com", "A", "198.51.100.5")
    bad = "wrong-token-0123456789abcdef"
    provider = CloudflareDns(
        zone="example.com", zone_id=cloudflare.zone_id, token=bad, base_url=cloudflare.base_url
    )
    with pytest.raises(DnsError, match=r"DNS record web.example.com .*refused the API token") as info:
        ensure_records(
            provider, names=["web.example.com"], targets=["lb.example.net"], owner=OURS, ttl=300, proxied=None
        )
    assert bad not in str(info.value) and "CLOUDFLARE_API_TOKEN" in str(info.value)
    assert [r["content"] for r in cloudflare.records.values()] == ["198.51.100.5"]


def test_cloudflare_lists_every_page(cloudflare: CloudflareDouble) -> None:
    for i in range(5):
        cloudflare.add("multi.example.com", "A", f"192.0.2.{i}")
    cloudflare.max_per_page = 2
    provider = CloudflareDns(
        zone="example.com", zone_id=cloudflare.zone_id, token=cloudflare.token, base_url=cloudflare.base_url
    )
    [record] = provider.list_records(name="multi.example.com")
    assert record.values == tuple(f"192.0.2.{i}" for i in range(5))
    assert sum(r.endswith("/dns_records") and r.startswith("GET") for r in cloudflare.requests) >= 3


def test_cloudflare_proxied_records(cloudflare: CloudflareDouble) -> None:
    provider = CloudflareDns(
        zone="example.com", zone_id=cloudflare.zone_id, token=cloudflare.token, base_url=cloudflare.base_url
    )
    names = ["proxied.example.com"]
    ensure_records(provider, names=names, targets=["lb.example.net"], owner=OURS, ttl=1, proxied=True)
    [cname] = [r for r in cloudflare.records.values() if r["type"] == "CNAME"]
    assert cname["proxied"] is True
    again = ensure_records(provider, names=names, targets=["lb.example.net"], owner=OURS, ttl=1, proxied=True)
    assert [c.action for c in again] == ["unchanged"]
    [change] = ensure_records(
        provider, names=names, targets=["lb.example.net"], owner=OURS, ttl=1, proxied=False
    )
    assert change.action == "updated" and cname["id"] in cloudflare.records
    assert cloudflare.records[cname["id"]]["proxied"] is False


def test_cloudflare_timeout_is_retryable(cloudflare: CloudflareDouble) -> None:
    cloudflare.delay = 1.5
    provider = CloudflareDns(
        zone="example.com",
        zone_id=cloudflare.zone_id,
        token=cloudflare.token,
        base_url=cloudflare.base_url,
        timeout=0.3,
    )
    with pytest.raises(RetryableDnsError, match=r"listing DNS record web.example.com .*timed out"):
        provider.list_records(name="web.example.com")


def test_cloudflare_unknown_zone_id(cloudflare: CloudflareDouble) -> None:
    provider = CloudflareDns(zone="", zone_id="0" * 32, token=cloudflare.token, base_url=cloudflare.base_url)
    with pytest.raises(DnsError, match=r"not found.*zone"):
        _ = provider.zone


def test_route53_zone_that_does_not_exist(moto: str) -> None:
    provider = Route53Dns(zone="nowhere.example", endpoint_url=moto)
    with pytest.raises(DnsError, match=r"no Route53 hosted zone named nowhere.example .*web.nowhere.example"):
        provider.upsert(record=DnsRecord(name="web.nowhere.example", type="A", values=("192.0.2.1",)))


def test_powerdns_wrong_api_key_and_name_served_over_dns(powerdns: PowerDns) -> None:
    bad = PowerDnsDns(zone=powerdns.zone, url=powerdns.url, api_key="not-the-key-0123456789")
    name = f"pdns-web.{powerdns.zone}"
    with pytest.raises(DnsError, match=rf"DNS record {name} .*refused the API key") as info:
        ensure_records(bad, names=[name], targets=["lb.example.net"], owner=OURS, ttl=300, proxied=None)
    assert "not-the-key-0123456789" not in str(info.value)
    good = PowerDnsDns(zone=powerdns.zone, url=powerdns.url, api_key=powerdns.api_key)
    ensure_records(good, names=[name], targets=["192.0.2.80"], owner=OURS, ttl=300, proxied=None)
    # Served by the server's own DNS listener, not only stored behind the API.
    answer = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=powerdns.dns_port, timeout=5)
    assert [rd.to_text() for rrset in answer.answer for rd in rrset] == ["192.0.2.80"]
