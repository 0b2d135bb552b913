"""ARP sweeps of school tablet subnets: which registered tablets are on the link, and how many strangers.

A tablet that sleeps or blocks ICMP still answers ARP, and ARP is the only probe that names the MAC, so
it is how a school learns which of its registered tablets are present. Requests are built by scapy and
sent on an ``AF_PACKET`` socket bound to the school's interface; replies are read asynchronously
(``loop.add_reader``) and parsed by scapy (a /24 is 254 packets, so scapy's cost does not matter here).
Addresses that stay silent are asked again ``retries`` times. Tablets are identified by asset number
only; answering MACs that are neither a registered tablet nor the school's infrastructure are counted,
never listed: a locally administered one (a private, random per-network address of iPadOS 14+, Android
10+ or Windows, most likely a tablet whose address no MDM has reported yet) apart from an unknown device.
A tablet may be registered under two MACs (the delivered one and the Wi-Fi MAC its MDM reports): it is
one tablet, seen if either answers.
"""

from __future__ import annotations

import asyncio
import fcntl
import ipaddress
import logging
import socket
import struct
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from scapy.compat import raw
from scapy.layers.l2 import ARP, Ether

from collectors.probes.config import RegisteredTablet, TabletSubnet
from collectors.probes.engine import enlarge_buffers
from ftthnoc.normalise import locally_administered

log = logging.getLogger(__name__)

ETH_P_ARP = 0x0806
SIOCGIFADDR = 0x8915
BROADCAST = "ff:ff:ff:ff:ff:ff"


def interface_ipv4(interface: str) -> ipaddress.IPv4Address | None:
    """The interface's primary IPv4 address (``SIOCGIFADDR``), None if it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            res = fcntl.ioctl(s.fileno(), SIOCGIFADDR, struct.pack("256s", interface.encode()[:15]))
        except OSError:
            return None
    return ipaddress.IPv4Address(res[20:24])


@dataclass(frozen=True, slots=True)
class ArpSweep:
    """One subnet's sweep: address → MAC of every answer (first answer wins), or the error that stopped it."""

    subnet: TabletSubnet
    answers: dict[str, str]
    started: float  # unix time
    duration: float
    error: str | None = None

    @property
    def success(self) -> bool:
        return self.error is None

    @property
    def macs(self) -> set[str]:
        return set(self.answers.values())


class _Receiver:
    def __init__(self, sock: socket.socket, subnet: ipaddress.IPv4Network, own_mac: str) -> None:
        self.sock = sock
        self.subnet = subnet
        self.own_mac = own_mac
        self.answers: dict[str, str] = {}

    def on_readable(self) -> None:
        while True:
            try:
                data, addr = self.sock.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.debug("arp receive error: %s", exc.strerror)
                return
            if addr[2] == socket.PACKET_OUTGOING:  # our own requests, looped back to packet sockets
                continue
            try:
                frame = Ether(data)
            except Exception:
                continue
            if ARP not in frame:
                continue
            arp = frame[ARP]
            if int(arp.op) != 2:
                continue
            ip, mac = str(arp.psrc), str(arp.hwsrc).lower()
            if mac == self.own_mac or ipaddress.IPv4Address(ip) not in self.subnet:
                continue
            self.answers.setdefault(ip, mac)


async def sweep(subnet: TabletSubnet, timeout: float = 1.0, retries: int = 1, rate: float = 1000.0) -> ArpSweep:
    """Ask every host address of the subnet who has it; failures (no interface, no permission) are data."""
    started, t0 = time.time(), time.perf_counter()
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    except PermissionError as exc:
        return ArpSweep(subnet, {}, started, 0.0, f"packet sockets are not permitted ({exc.strerror})")
    try:
        try:
            sock.bind((subnet.interface, ETH_P_ARP))
        except OSError as exc:
            return ArpSweep(subnet, {}, started, time.perf_counter() - t0,
                            f"cannot bind to interface {subnet.interface}: {exc.strerror}")
        sock.setblocking(False)
        enlarge_buffers(sock, 1 << 20)
        own_mac = ":".join(f"{b:02x}" for b in sock.getsockname()[4][:6])
        source = subnet.source
        if source is None:
            here = interface_ipv4(subnet.interface)
            source = here if here is not None and here in subnet.subnet else ipaddress.IPv4Address(0)
        loop = asyncio.get_running_loop()
        rx = _Receiver(sock, subnet.subnet, own_mac)
        loop.add_reader(sock.fileno(), rx.on_readable)
        try:
            todo = [str(a) for a in subnet.subnet.hosts() if a != source]
            for round_ in range(retries + 1):
                if round_:
                    todo = [a for a in todo if a not in rx.answers]
                    if not todo:
                        break
                await _send_requests(sock, todo, own_mac, str(source), rate)
                await asyncio.sleep(timeout)
        except OSError as exc:
            return ArpSweep(subnet, dict(rx.answers), started, time.perf_counter() - t0,
                            f"sending on {subnet.interface} failed: {exc.strerror}")
        finally:
            loop.remove_reader(sock.fileno())
        return ArpSweep(subnet, dict(rx.answers), started, time.perf_counter() - t0)
    finally:
        sock.close()


async def _send_requests(sock: socket.socket, addresses: Sequence[str], own_mac: str, source: str,
                         rate: float) -> None:
    gap = 1.0 / rate
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for n, ip in enumerate(addresses):
        frame = raw(Ether(dst=BROADCAST, src=own_mac) / ARP(op=1, hwsrc=own_mac, psrc=source, pdst=ip))
        while True:
            try:
                sock.send(frame)
                break
            except (BlockingIOError, InterruptedError):
                await asyncio.sleep(0.001)
        ahead = t0 + (n + 1) * gap - loop.time()
        if ahead > 0.001:
            await asyncio.sleep(ahead)


# ------------------------------------------------------------------------------------------ tablets
@dataclass(frozen=True, slots=True)
class TabletSighting:
    school: str
    asset_no: str
    seen: bool | None  # None: no sweep of the school's subnets succeeded this cycle (unknown, not absent)
    last_seen: float | None


@dataclass(frozen=True, slots=True)
class SubnetSummary:
    school: str
    subnet: str
    success: bool
    duration: float
    hosts: int  # addresses that answered
    unknown_macs: int  # distinct MACs neither registered nor infrastructure, globally administered
    private_macs: int = 0  # the same, locally administered (random per-network addresses)


@dataclass(slots=True)
class ArpState:
    """Last time each registered MAC answered: survives between sweeps (a timestamp, not a count)."""

    last_seen: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ArpCycle:
    subnets: tuple[SubnetSummary, ...]
    tablets: tuple[TabletSighting, ...]


def account(state: ArpState, sweeps: Sequence[ArpSweep], tablets: Iterable[RegisteredTablet]) -> ArpCycle:
    """Registered tablets are known town-wide: one visiting another school is seen, not a stranger."""
    registered = {t.mac: t for t in tablets}
    summaries: list[SubnetSummary] = []
    swept_ok: set[str] = set()
    seen_now: set[str] = set()
    for s in sweeps:
        macs = s.macs
        infra = set(s.subnet.infrastructure_macs)
        strangers = {m for m in macs if m not in registered and m not in infra}
        private = {m for m in strangers if locally_administered(m)}
        if s.success:
            swept_ok.add(s.subnet.school)
        for m in macs & registered.keys():
            seen_now.add(m)
            state.last_seen[m] = s.started
        summaries.append(SubnetSummary(s.subnet.school, str(s.subnet.subnet), s.success, s.duration,
                                       len(s.answers), len(strangers - private), len(private)))
    swept_schools = {s.subnet.school for s in sweeps}
    # one sighting per tablet, whichever of its MACs answered
    per_tablet: dict[tuple[str, str], list[str]] = {}
    for mac, t in registered.items():
        if t.school in swept_schools:  # else the school has no subnet configured: nothing to say
            per_tablet.setdefault((t.school, t.asset_no), []).append(mac)
    sightings: list[TabletSighting] = []
    for (school, asset), tablet_macs in per_tablet.items():
        any_seen = any(m in seen_now for m in tablet_macs)
        seen: bool | None = True if any_seen else (False if school in swept_ok else None)
        times = [state.last_seen[m] for m in tablet_macs if m in state.last_seen]
        sightings.append(TabletSighting(school, asset, seen, max(times) if times else None))
    return ArpCycle(tuple(summaries), tuple(sightings))


async def arp_cycle(state: ArpState, subnets: Sequence[TabletSubnet], tablets: Iterable[RegisteredTablet],
                    timeout: float = 1.0, retries: int = 1, rate: float = 1000.0) -> ArpCycle:
    """Sweep every subnet concurrently (each on its own link) and account for the tablets."""
    sweeps = await asyncio.gather(*(sweep(s, timeout, retries, rate) for s in subnets))
    for s in sweeps:
        if s.error:
            log.warning("arp sweep of %s (%s) failed: %s", s.subnet.subnet, s.subnet.school, s.error)
    return account(state, sweeps, tablets)

