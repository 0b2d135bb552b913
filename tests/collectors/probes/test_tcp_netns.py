"""Half-open TCP probes against a listener in a namespace: open, refused, silent; nothing left half-open."""

from __future__ import annotations

import pytest

from collectors.probes.tcp import TcpProber
from tests.collectors.probes.netns import LISTENER, Lab, run_in
from tests.waiting import wait_until

pytestmark = pytest.mark.asyncio


async def test_open_refused_and_silent_ports(lab: Lab) -> None:
    host, link = lab.veth_host()
    lab.python(host.ns, LISTENER, host.address, "8080")
    missing = str(link.subnet.network_address + 99)
    async with TcpProber() as prober:
        results = await prober.check([(host.address, 8080), (host.address, 8081), (missing, 8080)],
                                     timeout=0.4, attempts=1)
    up, closed, silent = results
    assert up.state == "open" and up.up
    assert up.seconds is not None and 0 < up.seconds < 0.05
    assert closed.state == "refused" and not closed.up
    assert closed.seconds is not None
    assert silent.state == "timeout" and silent.seconds is None and not silent.up

    # the SYN-ACK was answered with RST (ours and the kernel's): no half-open connection remains
    def sockets() -> str:
        return run_in(host.ns, "ss", "-tanH", "state", "syn-recv", "state", "established")

    wait_until(lambda: ":8080" not in sockets(), 2, "no connection left on port 8080", detail=sockets)


async def test_dropped_syn_is_retried_then_down(lab: Lab) -> None:
    host, _ = lab.veth_host()
    lab.python(host.ns, LISTENER, host.address, "8443")
    lab.nft(host.ns, """
table inet fw {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 8443 drop
  }
}
""")
    async with TcpProber() as prober:
        [r] = await prober.check([(host.address, 8443)], timeout=0.2, attempts=2)
    assert r.state == "timeout" and not r.up
