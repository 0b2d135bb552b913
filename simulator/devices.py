"""What the simulated town's SNMP agents serve: OLTs with their PON ports and ONUs, BWA stations, the
telework VPN gateways (a Cisco ASA and a FortiGate) and the school routers, as plain frozen dataclasses.

A test computes the value an agent must return (``onu.rx_dbm``) from the same objects that produced the
agent's data file (``simulator.snmprec``), so they hold values exactly as the vendor encodes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, TypeAlias

from ftthnoc import vendors
from simulator.variation import telework

#: an OLT vendor: the name of its vendor pack (``ftthnoc/vendors``); ``simulator.vendors`` has its profile
Vendor: TypeAlias = str
PonClass = Literal["B+", "C+"]
#: What the OLT reports now. Weak ONUs are ``online`` with a low ``rx_dbm``; ``deactivated`` ONUs are down
#: on purpose (the operator deactivated the ONT or shut its optics: Huawei only, causes 8 and 30).
OnuState = Literal["online", "dying_gasp", "los", "deactivated"]
#: Vendor-neutral names of a last-down cause; ``snmprec`` maps them to each vendor's integer. The last five
#: are the ONT taken down on purpose, which only the Huawei tables name (HUAWEI-XPON-MIB 8, 9, 30, 32, 33).
DownCause = Literal[
    "los", "losi", "lofi", "sfi", "loai", "loami", "dying_gasp",
    "deactivated", "reset", "optics_shutdown", "reset_by_button", "reset_by_software", "rogue_ont",
]  # fmt: skip

#: ONU Rx below this is "weak" (the GPON B+ sensitivity, docs/facts.md).
WEAK_RX_DBM = -27.0
#: a school router's interface towards the town's network (the school's uplink, the MEXT KPI's)
ROUTER_UPLINK = "LAN2"


@dataclass(frozen=True, slots=True)
class Onu:
    """One ONU as its OLT reports it. ``None`` means the agent has no reading for that column: the ONU
    is offline (both vendors publish Rx, Tx, temperature, OLT-side Rx and distance)."""

    serial: str  # "HWTC1A2B3C4D" / "ZTEG1A2B3C4D"
    olt: str
    pon_port: str  # F/S/P as the vendor writes it
    onu_id: int
    household: str
    state: OnuState
    last_down_cause: DownCause | None  # None: never down
    rx_dbm: float | None
    tx_dbm: float | None
    olt_rx_dbm: float | None
    distance_m: int | None
    temperature_c: int | None
    #: what the ONU reported to the OLT (Huawei's version table: equipment ID and main software)
    model: str = ""
    firmware: str = ""
    #: when the ONU last came online, last went down, last sent a dying gasp (Unix seconds; None: never)
    last_up_at: int | None = None
    last_down_at: int | None = None
    last_dying_gasp_at: int | None = None

    @property
    def online(self) -> bool:
        return self.state == "online"

    @property
    def weak(self) -> bool:
        return self.rx_dbm is not None and self.rx_dbm < WEAK_RX_DBM

    @property
    def vendor_serial(self) -> str:
        """The form the CLI prints, e.g. ``HWTC-1A2B3C4D``."""
        return f"{self.serial[:4]}-{self.serial[4:]}"


@dataclass(frozen=True, slots=True)
class Interface:
    """One IF-MIB row. Octet counters start at ``*_octets`` and grow by ``*_rate`` bytes/s when the
    agent is written with moving counters (snmpsim's ``numeric`` variation)."""

    if_index: int
    name: str
    descr: str
    if_type: int  # 6 ethernetCsmacd, 250 gpon
    speed_bps: int
    mtu: int
    oper_up: bool
    alias: str
    in_octets: int
    out_octets: int
    in_rate: float
    out_rate: float
    in_ucast: int
    out_ucast: int
    in_errors: int
    out_errors: int
    in_discards: int
    out_discards: int

    @property
    def high_speed_mbps(self) -> int:
        return self.speed_bps // 1_000_000


@dataclass(frozen=True, slots=True)
class PonPort:
    """A GPON port. ``pon_index`` indexes the vendor's ONU tables (Huawei: the ifIndex; ZTE: the
    0x10000000 + slot·65536 + port·256 form, which differs from ZTE's ifIndex)."""

    olt: str
    name: str  # F/S/P
    frame: int
    slot: int
    port: int
    pon_index: int
    interface: Interface
    onus: tuple[Onu, ...]
    feeder_cut: bool
    # OLT-side transceiver (Huawei publishes these per port)
    temperature_c: int
    voltage_v: float  # 0.01 V resolution
    bias_ma: int
    tx_dbm: float  # 0.01 dB resolution
    #: the port's laser switch (the operator's on/off)
    laser_on: bool = True
    #: the port's own optic (or its board) is dead: no transmit power, faulty (``simulator.faults``)
    failed: bool = False

    @property
    def up(self) -> bool:
        """The port's own state as the OLT reports it: faulty when its laser is off or it failed, or when it
        serves ONUs and none of them answers (no upstream light at all)."""
        return self.laser_on and not self.failed and (not self.onus or any(u.online for u in self.onus))


@dataclass(frozen=True, slots=True)
class Olt:
    name: str
    district: str
    vendor: Vendor
    model: str
    pon_class: PonClass
    auth: str
    address: str  # "127.0.0.1:PORT"; TownAgents replaces it with the port the agent really got
    sys_descr: str
    sys_object_id: str
    uptime_ticks: int
    uplinks: tuple[Interface, ...]
    pon_ports: tuple[PonPort, ...]

    @property
    def modules(self) -> list[str]:
        return ["if_mib", vendors.olt(self.vendor).onu_module.value]  # the vendor pack's ONU module

    @property
    def port(self) -> int:
        return int(self.address.rpartition(":")[2])

    def onus(self) -> Iterator[Onu]:
        for p in self.pon_ports:
            yield from p.onus

    def interfaces(self) -> Iterator[Interface]:
        yield from self.uplinks
        for p in self.pon_ports:
            yield p.interface


@dataclass(frozen=True, slots=True)
class BwaCell:
    """One LTE carrier of a BWA station as its eNB reports it: ``index`` is the cell's SNMP instance part,
    1 the first carrier (a Baicells eNB answers ``ueConnections`` cell 1 at ``.100.11.1.0``)."""

    index: int
    connected_ues: int
    dl_kbps: int
    ul_kbps: int
    dl_prb_pct: int
    ul_prb_pct: int


@dataclass(frozen=True, slots=True)
class BwaStation:
    """A regional BWA eNB. Cell status, RF and the RRC / E-RAB success rates are the station's (scalars
    of BAICELLS-MIB); a station out of service has no measurement period, so its success rates are None
    (no instance)."""

    name: str
    district: str
    model: str
    auth: str
    address: str
    sys_descr: str
    sys_object_id: str  # *verify*: Baicells' enterprise root, the model's own OID is not known here
    uptime_ticks: int
    s1_up: bool
    in_service: bool
    rf_on: bool
    rrc_success_pct: int | None
    erab_success_pct: int | None
    cells: tuple[BwaCell, ...]
    uplinks: tuple[Interface, ...]

    @property
    def modules(self) -> list[str]:
        return ["if_mib", "bwa_enb"]

    def interfaces(self) -> Iterator[Interface]:
        yield from self.uplinks


@dataclass(frozen=True, slots=True)
class IpsecTunnel:
    """A site-to-site IPsec (phase-2) tunnel row of the gateway's tunnel table."""

    index: int
    peer: str
    active: bool


#: the device module that reads a telework gateway of each vendor (the vendor is the inventory's value)
VPN_MODULES: dict[str, str] = {"cisco_asa": "cisco_asa_vpn", "fortigate": "fortigate_vpn"}


@dataclass(frozen=True, slots=True)
class VpnGateway:
    """A telework gateway (Cisco ASA or FortiGate). Its remote-access sessions are not stored: they are
    ``sessions_at(t)``, the working-day curve of its ``staff`` (what the agent computes when asked), shared
    between remote-access protocols by ``protocols`` weights (ASA: ipsec, svc, webvpn; FortiGate: ssl,
    ipsec for dial-up FortiClient peers)."""

    name: str
    vendor: str
    model: str
    auth: str
    address: str
    sys_descr: str
    sys_object_id: str
    uptime_ticks: int
    licence_sessions: int
    staff: int
    telework_share: float
    groups: tuple[tuple[str, float], ...]
    protocols: tuple[tuple[str, float], ...]
    tunnels: tuple[IpsecTunnel, ...]
    uplinks: tuple[Interface, ...]

    @property
    def modules(self) -> list[str]:
        return ["if_mib", VPN_MODULES[self.vendor]]

    def interfaces(self) -> Iterator[Interface]:
        yield from self.uplinks

    def sessions_at(self, t: float) -> int:
        """Active remote-access sessions at Unix time ``t`` (capped by the licence)."""
        return telework.sessions(t, self.staff, self.telework_share, self.licence_sessions)

    def group_sessions_at(self, t: float) -> dict[str, int]:
        """Sessions per tunnel-group at ``t``; they add up to ``sessions_at(t)``."""
        shares = telework.split(self.sessions_at(t), tuple(w for _, w in self.groups))
        return {name: n for (name, _), n in zip(self.groups, shares, strict=True)}

    def protocol_sessions_at(self, t: float) -> dict[str, int]:
        """Remote-access sessions per protocol at ``t``; they add up to ``sessions_at(t)``."""
        shares = telework.split(self.sessions_at(t), tuple(w for _, w in self.protocols))
        return {name: n for (name, _), n in zip(self.protocols, shares, strict=True)}

    def all_sessions_at(self, t: float) -> int:
        """What an ASA's crasNumSessions counts: remote access and the active LAN-to-LAN tunnels."""
        return self.sessions_at(t) + sum(tt.active for tt in self.tunnels)


@dataclass(frozen=True, slots=True)
class ArpEntry:
    """One row of a router's ARP table (ipNetToMediaTable): the interface, the IPv4 address, the MAC."""

    if_index: int
    ip: str
    mac: str


@dataclass(frozen=True, slots=True)
class SchoolRouter:
    """A school's Yamaha RTX router as SNMP sees it: ``LAN1`` the school's LAN, ``LAN2`` its uplink (the
    interface the MEXT bandwidth KPI measures). The counters move at constant rates, so the uplink's
    measured peak is ``uplink_mbps``."""

    name: str
    school: str
    district: str
    model: str
    auth: str
    address: str
    sys_descr: str
    sys_object_id: str  # *verify*: Yamaha's enterprise root (1182); the RTX1220's own OID is not known here
    uptime_ticks: int
    lan: tuple[Interface, ...]
    #: the ARP table: the school's tablets online now, on ``LAN1`` (``ROUTER_LAN_NETWORK``)
    arp: tuple[ArpEntry, ...] = ()

    @property
    def modules(self) -> list[str]:
        return ["if_mib", "school_router_arp"]

    def interfaces(self) -> Iterator[Interface]:
        yield from self.lan

    @property
    def uplink(self) -> Interface:
        return next(i for i in self.lan if i.name == ROUTER_UPLINK)

    @property
    def uplink_mbps(self) -> float:
        """The uplink's rate, the larger direction, in Mbps (what a poller measures between two polls)."""
        return max(self.uplink.in_rate, self.uplink.out_rate) * 8 / 1e6


#: anything with an SNMP agent in the town
Device: TypeAlias = Olt | BwaStation | VpnGateway | SchoolRouter
