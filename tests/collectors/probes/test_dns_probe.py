"""The DNS probe against a real DNS server on 127.0.0.1 (dnslib's ``DNSServer``, UDP and TCP), answering
from a small zone made here. Nothing leaves loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

dnslib = pytest.importorskip("dnslib", reason="dnslib (the test extra) serves the test zone")
from dnslib import QTYPE, RCODE, RR, A, DNSRecord  # noqa: E402
from dnslib.server import BaseResolver, DNSLogger, DNSServer  # noqa: E402

from collectors.probes.config import DnsSettings, DnsTarget, ProbeConfig  # noqa: E402
from collectors.probes.dns import check  # noqa: E402
from collectors.probes.prober import Prober  # noqa: E402

ZONE = {"www.town.example.": ["192.0.2.10"], "shinsei.town.example.": ["192.0.2.20", "192.0.2.21"]}


class ZoneResolver(BaseResolver):  # type: ignore[misc]
    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply = request.reply()
        name = str(request.q.qname)
        if name not in ZONE:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.A:
            for address in ZONE[name]:
                reply.add_answer(RR(name, QTYPE.A, rdata=A(address), ttl=60))
        return reply


@dataclass
class Dns:
    port: int


@pytest.fixture
def dns_server() -> Iterator[Dns]:
    """UDP and TCP on one loopback port, as a name server listens."""
    quiet = DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False, logf=lambda _: None)
    udp = DNSServer(ZoneResolver(), address="127.0.0.1", port=0, logger=quiet)
    port = udp.server.server_address[1]
    tcp = DNSServer(ZoneResolver(), address="127.0.0.1", port=port, tcp=True, logger=quiet)
    threads = [threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
               for server in (udp, tcp)]
    for thread in threads:
        thread.start()
    try:
        yield Dns(port)
    finally:
        for server in (udp, tcp):
            server.stop()
            server.server.server_close()
        for thread in threads:
            thread.join(5)


SETTINGS = DnsSettings(timeout_seconds=2)


def target(port: int, **kw: object) -> DnsTarget:
    return DnsTarget.model_validate({"name": "town-dns", "server": "127.0.0.1", "port": port,
                                     "query_name": "www.town.example", **kw})


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_known_record_with_the_expected_address(dns_server: Dns, transport: str) -> None:
    r = await check(target(dns_server.port, transport=transport, expected_addresses=["192.0.2.10"]), SETTINGS)
    assert r.success, r.reason
    assert (r.rcode, r.answer_rrs, r.reason) == (0, 1, "")
    assert 0 < r.seconds < 2


async def test_every_expected_address_must_be_there(dns_server: Dns) -> None:
    both = target(dns_server.port, query_name="shinsei.town.example",
                  expected_addresses=["192.0.2.21", "192.0.2.20"])
    r = await check(both, SETTINGS)
    assert r.success and r.answer_rrs == 2
    wrong = await check(target(dns_server.port, expected_addresses=["192.0.2.99"]), SETTINGS)
    assert not wrong.success and wrong.rcode == 0 and wrong.answer_rrs == 1
    assert wrong.reason == "expected 192.0.2.99 not in the answer (192.0.2.10)"


async def test_nxdomain_is_a_failure(dns_server: Dns) -> None:
    r = await check(target(dns_server.port, query_name="nothing.town.example"), SETTINGS)
    assert not r.success
    assert (r.rcode, r.answer_rrs, r.reason) == (3, 0, "rcode NXDOMAIN")


async def test_empty_answer_is_a_failure(dns_server: Dns) -> None:
    r = await check(target(dns_server.port, query_type="MX"), SETTINGS)
    assert not r.success and r.rcode == 0 and r.reason == "no MX record in the answer"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A UDP port on loopback that nobody answers on (bound here, never read)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


async def test_silent_server_times_out(silent_port: int) -> None:
    r = await check(target(silent_port), DnsSettings(timeout_seconds=0.3))
    assert not r.success and r.rcode is None
    assert r.reason == "no answer within 0.3 s"


async def test_prober_publishes_dns_families(dns_server: Dns) -> None:
    cfg = ProbeConfig.model_validate({"dns": {"timeout_seconds": 2, "targets": [
        {"name": "town-dns", "server": "127.0.0.1", "port": dns_server.port, "query_name": "www.town.example",
         "expected_addresses": ["192.0.2.10"]},
        {"name": "town-dns-gone", "server": "127.0.0.1", "port": dns_server.port,
         "query_name": "gone.town.example"},
    ]}})
    fams = {f.name: {s.labels.get("target", ""): s.value for s in f.samples} for f in await Prober(cfg).cycle()}
    assert fams["ftthnoc_probe_dns_success"] == {"town-dns": 1.0, "town-dns-gone": 0.0}
    assert fams["ftthnoc_probe_dns_rcode"] == {"town-dns": 0.0, "town-dns-gone": 3.0}
    assert fams["ftthnoc_probe_dns_answer_rrs"] == {"town-dns": 1.0, "town-dns-gone": 0.0}
    assert fams["ftthnoc_probe_service_failed_cycles"] == {"town-dns": 0.0, "town-dns-gone": 1.0}
    assert set(fams["ftthnoc_probe_dns_duration_seconds"]) == {"town-dns", "town-dns-gone"}
