"""The demo's simulated town services answer the prober's real HTTP and DNS checks, on loopback."""

from __future__ import annotations

import time
from pathlib import Path

from collectors.probes.config import DnsSettings, DnsTarget, HttpSettings, HttpTarget
from collectors.probes.dns import check as dns_check
from collectors.probes.http import check as http_check
from simulator.services import CERT_DAYS, NAME, TownServices


async def test_portal_and_dns_answer_the_probes(tmp_path: Path) -> None:
    with TownServices(tmp_path) as services:
        portal = HttpTarget(name="portal", url=services.url, ca_file=services.ca_file, body_regex="電子申請")
        r = await http_check(portal, HttpSettings(timeout_seconds=5))
        assert r.success, r.reason
        assert r.cert_expiry is not None and CERT_DAYS - 1 < (r.cert_expiry - time.time()) / 86400 <= CERT_DAYS
        missing = await http_check(portal.model_copy(update={"url": services.url + "nothing"}),
                                   HttpSettings(timeout_seconds=5))
        assert not missing.success and missing.reason == "status 404 not in 2xx"
        for transport in ("udp", "tcp"):
            town_dns = DnsTarget(name="dns", server="127.0.0.1", port=services.dns_port, transport=transport,
                                 query_name=NAME, expected_addresses=["127.0.0.1"])
            d = await dns_check(town_dns, DnsSettings(timeout_seconds=2))
            assert d.success, (transport, d.reason)
        gone = await dns_check(DnsTarget(name="dns", server="127.0.0.1", port=services.dns_port,
                                         query_name="gone.kitahiroshima.example"), DnsSettings(timeout_seconds=2))
        assert gone.reason == "rcode NXDOMAIN"
