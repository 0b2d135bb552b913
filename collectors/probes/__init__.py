"""Active probes: ICMP echo bursts, half-open TCP connects and ARP sweeps of tablet subnets; HTTP(S) and DNS
checks of the town's online services (``http``, ``dns``: httpx and dnspython, no raw socket).

Packets are built and parsed with scapy but sent and received on raw sockets driven by the asyncio loop
(never one blocking ``sr()`` per host), so one process probes thousands of targets per cycle. Entry point:
:class:`collectors.probes.prober.Prober`; configuration: :class:`collectors.probes.config.ProbeConfig`.
"""

from collectors.probes.config import ProbeConfig, ProbeTarget, RegisteredTablet, TabletSubnet
from collectors.probes.engine import IcmpEngine, ProbeError
from collectors.probes.prober import Prober

__all__ = ["IcmpEngine", "ProbeConfig", "ProbeError", "ProbeTarget", "Prober", "RegisteredTablet", "TabletSubnet"]
