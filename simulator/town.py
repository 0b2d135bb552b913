"""The simulated town: a deterministic model of Kitahiroshima's FTTH network and its subscribers.

Everything the demo, the tests and the benchmarks need comes from one seed, so that a test can compute
the value an agent must return (``onu.rx_dbm``) from the same plain dataclasses that produced the agent's
data file. Optical values are quantised to the resolution of the vendor's encoding (0.01 dB for Huawei,
0.002 dB for the ZTE ONU Rx column), so that decoding the raw SNMP integer gives the model's value back.

The town also has its regional BWA (地域BWA) base stations, in the districts the fibre reaches last, and
the town office's telework VPN gateway, whose sessions follow a working-day curve of the staff
(``simulator.variation.telework``, computed when the agent answers). On request
(``generate_town(school_routers=True)``) every school gets its router as an SNMP device, its uplink's
counters moving at a rate near the school's MEXT recommended bandwidth, and its ARP table listing the
school's tablets that are online (a deterministic 70–90 % of them, ``SchoolRouter.arp``).

All personal data is a synthetic placeholder (``住民 000123``); nothing here resembles a real person.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from ftthnoc.kpi.figures import mext_mbps
from simulator.variation import telework

Vendor = Literal["huawei", "zte"]
PonClass = Literal["B+", "C+"]
#: What the OLT reports now. Weak ONUs are ``online`` with a low ``rx_dbm``.
OnuState = Literal["online", "dying_gasp", "los"]
#: Vendor-neutral names of a last-down cause; ``snmprec`` maps them to each vendor's integer.
DownCause = Literal["los", "losi", "lofi", "sfi", "loai", "loami", "dying_gasp"]
HouseholdStatus = Literal["applied", "surveyed", "installed", "active"]

#: ONU Rx below this is "weak" (the GPON B+ sensitivity, DOMAIN.md).
WEAK_RX_DBM = -27.0
#: ONUs per PON port: a 1:64 split is the most a GPON port takes here.
MAX_ONUS_PER_PORT = 64
PORTS_PER_BOARD = 16


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class DistrictSpec:
    """A former town. Household counts are not published per district: they are configuration."""

    code: str
    name: str
    households: int


@dataclass(frozen=True, slots=True)
class OltSpec:
    """One OLT to build. ``weight`` shares the district's ONUs between its OLTs."""

    name: str
    district: str
    model: str
    pon_class: PonClass
    auth: str
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class FaultRates:
    """Shares of ONUs in each special condition (outside the feeder-cut port)."""

    weak: float = 0.02
    dying_gasp: float = 0.015
    los: float = 0.006
    #: PON ports whose feeder is cut: most of their ONUs are in LOS at once (one incident).
    feeder_cut_ports: int = 1
    #: Share of the ONUs on a cut port that lost signal (the rest hang off an intact branch).
    feeder_cut_share: float = 0.85
    #: Share of online ONUs that went down once before (last-down cause is set, mostly dying gasp).
    history: float = 0.25
    #: BWA cells that are down (RF off), each on a station that keeps another cell in service.
    bwa_cells_down: int = 1


@dataclass(frozen=True, slots=True)
class SnmpUser:
    """An SNMPv3 USM user every simulated agent accepts. ``priv_protocol`` uses the poller's names:
    ``AES256`` is the Blumenthal key extension (net-snmp's ``AES-256``, snmpsim's ``AES256BLMT``)."""

    auth_name: str
    username: str
    auth_protocol: Literal["SHA", "SHA256"]
    password: str
    priv_protocol: Literal["AES", "AES256"]
    priv_password: str


DEFAULT_DISTRICTS: tuple[DistrictSpec, ...] = (
    DistrictSpec("chiyoda", "千代田", 3700),
    DistrictSpec("oasa", "大朝", 1250),
    DistrictSpec("toyohira", "豊平", 1650),
    DistrictSpec("geihoku", "芸北", 1128),
)

DEFAULT_OLTS: tuple[OltSpec, ...] = (
    OltSpec("chiyoda-olt1", "chiyoda", "MA5800-X17", "B+", "olt_v3"),
    OltSpec("chiyoda-olt2", "chiyoda", "MA5600T", "B+", "olt_v3"),
    OltSpec("toyohira-olt1", "toyohira", "MA5800-X17", "C+", "olt_v3_aes128"),
    OltSpec("oasa-olt1", "oasa", "C300", "B+", "public_v2"),
    OltSpec("geihoku-olt1", "geihoku", "C320", "C+", "public_v2"),
)

#: The demo's fixed credentials. Every simulated agent accepts all of them (and community ``public``).
DEMO_V3_USERS: tuple[SnmpUser, ...] = (
    SnmpUser("olt_v3", "ftthnoc", "SHA256", "ftthnoc-demo-auth", "AES256", "ftthnoc-demo-priv"),
    SnmpUser("olt_v3_aes128", "ftthnoc-legacy", "SHA", "ftthnoc-demo-auth", "AES", "ftthnoc-demo-priv"),
)
COMMUNITY = "public"
#: credential names the simulated town's inventory gives its OLTs' and school routers' SSH command lines
OLT_CLI_AUTH = "olt_admin"
ROUTER_CLI_AUTH = "school_router"
V2_AUTH_NAME = "public_v2"


@dataclass(frozen=True, slots=True)
class BwaSpec:
    """One regional BWA base station (eNB) to build; it gets 1–3 cells (carriers)."""

    name: str
    district: str
    model: str = "Nova233"
    auth: str = V2_AUTH_NAME


@dataclass(frozen=True, slots=True)
class VpnSpec:
    """The town office's telework VPN gateway and its licence (concurrent remote-access sessions)."""

    name: str
    model: str = "ASA 5516-X"
    licence_sessions: int = 100
    #: share of the staff that teleworks on a working day (sessions at the plateau: staff × share)
    telework_share: float = 0.3
    auth: str = "olt_v3"


#: The districts the fibre reaches last get the BWA: Geihoku's scattered hamlets and Oasa's hills.
DEFAULT_BWA_STATIONS: tuple[BwaSpec, ...] = (
    BwaSpec("geihoku-bwa1", "geihoku"),
    BwaSpec("geihoku-bwa2", "geihoku"),
    BwaSpec("geihoku-bwa3", "geihoku"),
    BwaSpec("geihoku-bwa4", "geihoku"),
    BwaSpec("oasa-bwa1", "oasa"),
    BwaSpec("oasa-bwa2", "oasa"),
)
DEFAULT_VPN_GATEWAYS: tuple[VpnSpec, ...] = (VpnSpec("telework-vpn1"),)
#: Staff of the town office: configuration (the number the telework KPI compares sessions with).
DEFAULT_STAFF = 300
#: Tunnel-groups of the gateway and their share of the sessions (ASA lists its default group too).
VPN_GROUPS: tuple[tuple[str, float], ...] = (
    ("telework", 85.0), ("it-admin", 10.0), ("vendor-maint", 5.0), ("DefaultRAGroup", 0.0),
)  # fmt: skip
#: Site-to-site IPsec tunnels from the town hall (Chiyoda) to the branch offices (支所).
VPN_BRANCH_TUNNELS: tuple[str, ...] = ("oasa-branch", "toyohira-branch", "geihoku-branch")


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """What a chassis looks like from SNMP: service slots, uplinks, identity strings."""

    vendor: Vendor
    service_slots: tuple[int, ...]
    uplinks: tuple[tuple[int, int], ...]  # (slot, port)
    sys_descr: str
    sys_object_id: str  # *verify*: taken from peer walks where available, else the likely shape
    gpon_if_descr: str = ""


MODELS: dict[str, ModelSpec] = {
    "MA5800-X17": ModelSpec(
        "huawei",
        (1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15, 16, 17, 18),
        ((9, 0), (9, 1)),
        "Huawei Integrated Access Software MA5800-X17 V100R019C10",
        "1.3.6.1.4.1.2011.2.248",
        "Huawei-MA5800-V100R019-GPON_UNI",
    ),
    "MA5600T": ModelSpec(
        "huawei",
        (1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16),
        ((19, 0), (19, 1)),
        "Huawei Integrated Access Software MA5600T V800R018C10",
        "1.3.6.1.4.1.2011.2.123",
        "Huawei-MA5600-V800R018-GPON_UNI",
    ),
    "C300": ModelSpec(
        "zte",
        (2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17),
        ((19, 1), (19, 2)),
        "ZXA10 C300 Version V1.2.5P3 Software, Copyright (c) by ZTE Corporation Compiled",
        "1.3.6.1.4.1.3902.1082.1001.300.2.1",
    ),
    "C320": ModelSpec(
        "zte",
        (1, 2),
        ((3, 1), (4, 1)),
        "ZXA10 C320 Version V1.2.5P3 Software, Copyright (c) by ZTE Corporation Compiled",
        "1.3.6.1.4.1.3902.1082.1001.320.2.1",
    ),
}


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True, slots=True)
class Onu:
    """One ONU as its OLT reports it. ``None`` means the agent has no reading for that column: the ONU
    is offline, or the vendor does not publish it (ZTE has no ONU Tx or temperature column)."""

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
        return ["if_mib", "huawei_gpon" if self.vendor == "huawei" else "zte_gpon"]

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
class District:
    code: str
    name: str
    households: int  # all households in the district (census), not only subscribers


@dataclass(frozen=True, slots=True)
class Household:
    code: str
    district: str
    plan: str
    status: HouseholdStatus
    onu_serial: str | None


@dataclass(frozen=True, slots=True)
class HouseholdContact:
    """Synthetic placeholder personal data: only here so that access control can be exercised."""

    household: str
    name: str
    address: str
    phone: str


@dataclass(frozen=True, slots=True)
class School:
    code: str
    name: str
    district: str
    pupils: int
    level: Literal["elementary", "junior_high"]


@dataclass(frozen=True, slots=True)
class Tablet:
    school: str
    asset_no: str
    serial: str
    mac: str
    os: str
    grade: int
    class_name: str


@dataclass(frozen=True, slots=True)
class BwaCell:
    """One LTE carrier of a BWA station as its eNB reports it (``index``: the SNMP instance, 0 first).
    A cell that is down has no measurement period: its success ratios are None (no instance)."""

    index: int
    up: bool
    rf_on: bool
    connected_ues: int
    dl_kbps: int
    ul_kbps: int
    dl_prb_pct: int
    ul_prb_pct: int
    rrc_success_pct: int | None
    erab_success_pct: int | None


@dataclass(frozen=True, slots=True)
class BwaStation:
    name: str
    district: str
    model: str
    auth: str
    address: str
    sys_descr: str
    sys_object_id: str  # *verify*: Baicells' enterprise root, the model's own OID is not known here
    uptime_ticks: int
    s1_up: bool
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


@dataclass(frozen=True, slots=True)
class VpnGateway:
    """A Cisco-ASA-style telework gateway. Its remote-access sessions are not stored: they are
    ``sessions_at(t)``, the working-day curve of ``staff`` (what the agent computes when asked)."""

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
    tunnels: tuple[IpsecTunnel, ...]
    uplinks: tuple[Interface, ...]

    @property
    def modules(self) -> list[str]:
        return ["if_mib", "cisco_asa_vpn"]

    def interfaces(self) -> Iterator[Interface]:
        yield from self.uplinks

    def sessions_at(self, t: float) -> int:
        """Active remote-access sessions at Unix time ``t`` (capped by the licence)."""
        return telework.sessions(t, self.staff, self.telework_share, self.licence_sessions)

    def group_sessions_at(self, t: float) -> dict[str, int]:
        """Sessions per tunnel-group at ``t``; they add up to ``sessions_at(t)``."""
        shares = telework.split(self.sessions_at(t), tuple(w for _, w in self.groups))
        return {name: n for (name, _), n in zip(self.groups, shares, strict=True)}


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


@dataclass(frozen=True, slots=True)
class Town:
    seed: int
    districts: tuple[District, ...]
    olts: tuple[Olt, ...]
    households: tuple[Household, ...]
    contacts: tuple[HouseholdContact, ...]
    schools: tuple[School, ...]
    tablets: tuple[Tablet, ...]
    v3_users: tuple[SnmpUser, ...] = DEMO_V3_USERS
    community: str = COMMUNITY
    bwa_stations: tuple[BwaStation, ...] = ()
    vpn_gateways: tuple[VpnGateway, ...] = ()
    #: the schools' routers as SNMP devices (``generate_town(school_routers=True)``), else none
    school_routers: tuple[SchoolRouter, ...] = ()
    #: staff of the town office (telework VPN users)
    staff: int = DEFAULT_STAFF
    #: ``HOST:PORT`` of the SSH command line of an OLT (by name) or a school's router (by school code),
    #: where a simulator serves one (``simulator.cli.town``); the inventory gets them as ``cli_address``
    #: and ``router_address``.
    cli_addresses: Mapping[str, str] = field(default_factory=dict)
    _olt_by_name: dict[str, Olt] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_olt_by_name", {o.name: o for o in self.olts})

    # ---- look-ups
    def olt(self, name: str) -> Olt:
        return self._olt_by_name[name]

    def onus(self) -> Iterator[Onu]:
        for o in self.olts:
            yield from o.onus()

    def devices(self) -> Iterator[Device]:
        """Every device with an SNMP agent: OLTs, BWA stations, VPN gateways, school routers (in that order)."""
        yield from self.olts
        yield from self.bwa_stations
        yield from self.vpn_gateways
        yield from self.school_routers

    def school_router(self, school: str) -> SchoolRouter | None:
        """The router of the school with this code, when the town has school routers."""
        return next((r for r in self.school_routers if r.school == school), None)

    def device(self, name: str) -> Device:
        for d in self.devices():
            if d.name == name:
                return d
        raise KeyError(name)

    def pon_ports(self) -> Iterator[PonPort]:
        for o in self.olts:
            yield from o.pon_ports

    def onus_by_district(self) -> dict[str, int]:
        counts = {d.code: 0 for d in self.districts}
        for o in self.olts:
            counts[o.district] += sum(len(p.onus) for p in o.pon_ports)
        return counts

    def with_addresses(self, addresses: Mapping[str, str]) -> Town:
        """A copy whose OLTs carry the given ``HOST:PORT`` addresses (the agents' real ports)."""
        olts = tuple(
            dataclasses.replace(o, address=addresses[o.name]) if o.name in addresses else o for o in self.olts
        )
        stations = tuple(
            dataclasses.replace(b, address=addresses[b.name]) if b.name in addresses else b
            for b in self.bwa_stations
        )
        gateways = tuple(
            dataclasses.replace(g, address=addresses[g.name]) if g.name in addresses else g
            for g in self.vpn_gateways
        )
        routers = tuple(
            dataclasses.replace(r, address=addresses[r.name]) if r.name in addresses else r
            for r in self.school_routers
        )
        return dataclasses.replace(self, olts=olts, bwa_stations=stations, vpn_gateways=gateways,
                                   school_routers=routers)

    def with_cli_addresses(self, addresses: Mapping[str, str]) -> Town:
        """A copy whose OLTs and school routers answer SSH at these ``HOST:PORT`` addresses."""
        return dataclasses.replace(self, cli_addresses={**self.cli_addresses, **addresses})

    # ---- documents for the other parts of ftthnoc
    def inventory_document(self) -> dict[str, Any]:
        """The flat inventory document the importer reads (one list per table)."""
        routers = {r.school: r for r in self.school_routers}
        return {
            "districts": [
                {"code": d.code, "name": d.name, "households": d.households} for d in self.districts
            ],
            "olts": [
                {
                    "name": o.name,
                    "district": o.district,
                    "vendor": o.vendor,
                    "model": o.model,
                    "address": o.address,
                    "pon_class": o.pon_class,
                    "auth": o.auth,
                    "modules": o.modules,
                    "cli_address": self.cli_addresses.get(o.name),
                    "cli_auth": OLT_CLI_AUTH if o.name in self.cli_addresses else None,
                }
                for o in self.olts
            ],
            "pon_ports": [{"olt": p.olt, "port": p.name} for p in self.pon_ports()],
            "onus": [
                {
                    "serial": u.serial,
                    "olt": u.olt,
                    "pon_port": u.pon_port,
                    "onu_id": u.onu_id,
                    "household": u.household,
                    # Never a probe address: tests send packets only to loopback and their own
                    # namespaces, and a simulated ONU has no management interface to answer on.
                    "mgmt_address": None,
                }
                for u in self.onus()
            ],
            "households": [
                {"code": h.code, "district": h.district, "plan": h.plan, "status": h.status}
                for h in self.households
            ],
            "household_contacts": [
                {"household": c.household, "name": c.name, "address": c.address, "phone": c.phone}
                for c in self.contacts
            ],
            "schools": [
                # no probe address either, for the same reason as the ONUs'
                {
                    "code": s.code,
                    "name": s.name,
                    "district": s.district,
                    "pupils": s.pupils,
                    "address": None,
                    "router_address": self.cli_addresses.get(s.code),
                    "router_platform": "yamaha" if s.code in self.cli_addresses else None,
                    "router_auth": ROUTER_CLI_AUTH if s.code in self.cli_addresses else None,
                    "dhcp_scope": 1 if s.code in self.cli_addresses else None,
                    "uplink_target": routers[s.code].name if s.code in routers else None,
                    "uplink_interface": ROUTER_UPLINK if s.code in routers else None,
                }
                for s in self.schools
            ],
            "tablets": [
                {
                    "school": t.school,
                    "asset_no": t.asset_no,
                    "serial": t.serial,
                    "mac": t.mac,
                    "os": t.os,
                    "grade": t.grade,
                    "class_name": t.class_name,
                    "status": "active",
                }
                for t in self.tablets
            ],
            "bwa_stations": [
                {"name": b.name, "district": b.district, "address": b.address, "auth": b.auth, "modules": b.modules}
                for b in self.bwa_stations
            ],
            "vpn_gateways": [
                {
                    "name": g.name,
                    "vendor": g.vendor,
                    "address": g.address,
                    "auth": g.auth,
                    "modules": g.modules,
                    "licence_sessions": g.licence_sessions,
                }
                for g in self.vpn_gateways
            ],
        }

    def poller_config(self, interval_seconds: float = 60) -> dict[str, Any]:
        """The poller's configuration (``ftthnoc.config.Config``): the OLTs, then the BWA stations, the VPN
        gateways and the school routers (small agents, the same request limits)."""
        auths: dict[str, dict[str, Any]] = {V2_AUTH_NAME: {"version": 2, "community": self.community}}
        for u in self.v3_users:
            auths[u.auth_name] = {
                "version": 3,
                "username": u.username,
                "security_level": "authPriv",
                "auth_protocol": u.auth_protocol,
                "password": u.password,
                "priv_protocol": u.priv_protocol,
                "priv_password": u.priv_password,
            }
        targets = [
            {
                "name": o.name,
                "address": o.address,
                "modules": o.modules,
                "auth": o.auth,
                "pon_class": o.pon_class,
                "max_repetitions": 25,
                "timeout": 2.0,
                "retries": 1,
                "concurrency": 2,
            }
            for o in self.olts
        ]
        targets += [
            {
                "name": d.name,
                "address": d.address,
                "modules": d.modules,
                "auth": d.auth,
                "max_repetitions": 25,
                "timeout": 2.0,
                "retries": 1,
                "concurrency": 2,
            }
            for d in self.devices()
            if not isinstance(d, Olt)
        ]
        return {"auths": auths, "targets": targets, "interval_seconds": interval_seconds}


# --------------------------------------------------------------------------- the generator


def _largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` into integers that add up exactly."""
    wsum = float(sum(weights))
    if total == 0 or wsum <= 0:
        return [0] * len(weights)
    raw = [total * w / wsum for w in weights]
    out = [math.floor(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def _q(value: float, step: float) -> float:
    """Quantise to the encoding's resolution, so that raw → dBm gives this value back."""
    return round(round(value / step) * step, 3)


def _rng(seed: int, *parts: object) -> random.Random:
    # one stream per concern: adding schools does not move an ONU's Rx power
    return random.Random(":".join([str(seed), *map(str, parts)]))


def _fill_ports(n: int, capacity: int, rng: random.Random, lo: int, hi: int) -> list[int]:
    """ONUs per used port, uneven (``lo``..``hi``), packed denser only if the chassis would overflow."""
    if n > capacity * MAX_ONUS_PER_PORT:
        raise ValueError(f"{n} ONUs do not fit {capacity} PON ports of {MAX_ONUS_PER_PORT}")
    counts: list[int] = []
    remaining = n
    while remaining > 0:
        ports_left = capacity - len(counts)
        need = math.ceil(remaining / ports_left)
        k_lo = max(lo, need)
        k_hi = min(MAX_ONUS_PER_PORT, max(hi, k_lo))
        k = min(rng.randint(k_lo, k_hi), remaining)
        if 0 < remaining - k < lo:  # no stub port at the end: take it all, or leave a full-size rest
            k2 = remaining if remaining <= MAX_ONUS_PER_PORT else remaining - lo
            if remaining - k2 <= MAX_ONUS_PER_PORT * (ports_left - 1):
                k = k2
        counts.append(k)
        remaining -= k
    return counts


def _pon_index(vendor: Vendor, frame: int, slot: int, port: int) -> tuple[int, int]:
    """(ifIndex, ONU-table index) of a GPON port."""
    if vendor == "huawei":
        idx = 4194304000 + frame * 2**19 + slot * 8192 + port * 256
        return idx, idx
    # ZTE: ifIndex counts slots and ports from 0 (gpon_1/1/1 = 268435456), the ONU tables from 1
    # (gpon-olt_1/1/1 = 268501248), as in the C320 peer walk.
    return 0x10000000 + (slot - 1) * 65536 + (port - 1) * 256, 0x10000000 + slot * 65536 + port * 256


def _uplink_index(vendor: Vendor, slot: int, port: int) -> int:
    if vendor == "huawei":
        return 0x0E000000 + slot * 8192 + port * 64  # ethernet0/7/0 = 234938368 in the smartax walk
    return 0x10000000 + (slot - 1) * 65536 + (port - 1) * 256


@dataclass
class _OnuDraft:
    olt: str
    vendor: Vendor
    pon_class: PonClass
    pon_port: str
    onu_id: int
    serial: str
    household: str = ""
    state: OnuState = "online"
    weak: bool = False
    feeder_cut: bool = False


def generate_town(
    seed: int = 2026,
    onus: int = 7000,
    *,
    districts: Sequence[DistrictSpec] = DEFAULT_DISTRICTS,
    olts: Sequence[OltSpec] = DEFAULT_OLTS,
    rates: FaultRates | None = None,
    pipeline_households: int | None = None,
    schools: int = 10,
    pupils: tuple[int, int] = (20, 400),
    onus_per_port: tuple[int, int] = (20, 60),
    host: str = "127.0.0.1",
    base_port: int = 16101,
    bwa_stations: Sequence[BwaSpec] | None = None,
    vpn_gateways: Sequence[VpnSpec] = DEFAULT_VPN_GATEWAYS,
    staff: int = DEFAULT_STAFF,
    school_routers: bool = False,
) -> Town:
    """Build the town. Same arguments, same town, on every machine.

    ``onus`` ONUs are spread over the districts in proportion to their households and over a district's
    OLTs by weight; ``pipeline_households`` (default 4 % of ``onus``) more households are applied,
    surveyed or installed without an ONU. Device addresses are ``host:base_port+i`` placeholders: the
    OLTs first, then the BWA stations, then the VPN gateways. ``bwa_stations`` defaults to
    ``DEFAULT_BWA_STATIONS`` in the districts the town has (a one-district test town has none).
    ``staff`` is the town office's staff, whose working day the VPN gateway's sessions follow.
    ``school_routers`` gives every school its router as an SNMP device (addressed after the gateways);
    off by default, so that towns that do not need them start no more agents.
    """
    rates = rates or FaultRates()
    dist_codes = [d.code for d in districts]
    for spec in olts:
        if spec.district not in dist_codes:
            raise ValueError(f"OLT {spec.name} names unknown district {spec.district}")
        if spec.model not in MODELS:
            raise ValueError(f"OLT {spec.name}: unknown model {spec.model} (known: {', '.join(MODELS)})")
    if bwa_stations is None:
        bwa_stations = [b for b in DEFAULT_BWA_STATIONS if b.district in dist_codes]
    for bwa in bwa_stations:
        if bwa.district not in dist_codes:
            raise ValueError(f"BWA station {bwa.name} names unknown district {bwa.district}")
    names = [o.name for o in olts] + [b.name for b in bwa_stations] + [g.name for g in vpn_gateways]
    if len(set(names)) < len(names):
        raise ValueError("device names must be unique over OLTs, BWA stations and VPN gateways")
    if school_routers and any(n.endswith(ROUTER_SUFFIX) for n in names):
        raise ValueError(f"device names ending in {ROUTER_SUFFIX!r} are the school routers'")
    if staff < 0:
        raise ValueError(f"staff must be >= 0, not {staff}")
    total_households = sum(d.households for d in districts)
    if onus > total_households:
        raise ValueError(f"{onus} ONUs but only {total_households} households")

    onus_per_district = _largest_remainder(onus, [d.households for d in districts])
    for d, n in zip(districts, onus_per_district, strict=True):
        if n and not any(s.district == d.code for s in olts):
            raise ValueError(f"district {d.code} has ONUs but no OLT")

    # ---- structure: ports and ONU identities
    serials: set[str] = set()
    drafts_by_olt: dict[str, list[list[_OnuDraft]]] = {}
    port_layout: dict[str, list[tuple[int, int, int, str]]] = {}  # olt -> (frame, slot, port, F/S/P)
    for d, n_d in zip(districts, onus_per_district, strict=True):
        specs = [s for s in olts if s.district == d.code]
        for spec, n in zip(specs, _largest_remainder(n_d, [s.weight for s in specs]), strict=True):
            model = MODELS[spec.model]
            rng = _rng(seed, "ports", spec.name)
            capacity = len(model.service_slots) * PORTS_PER_BOARD
            counts = _fill_ports(n, capacity, rng, *onus_per_port)
            boards = max(1, math.ceil(len(counts) / PORTS_PER_BOARD))
            layout: list[tuple[int, int, int, str]] = []
            for slot in model.service_slots[:boards]:
                for p in range(PORTS_PER_BOARD):
                    if model.vendor == "huawei":
                        layout.append((0, slot, p, f"0/{slot}/{p}"))
                    else:
                        layout.append((1, slot, p + 1, f"1/{slot}/{p + 1}"))
            port_layout[spec.name] = layout
            ports: list[list[_OnuDraft]] = []
            for i, (_f, _s, _p, fsp) in enumerate(layout):
                k = counts[i] if i < len(counts) else 0
                onu_id = 0 if model.vendor == "huawei" else 1
                drafts: list[_OnuDraft] = []
                for _ in range(k):
                    while True:
                        prefix = "HWTC" if model.vendor == "huawei" else "ZTEG"
                        serial = f"{prefix}{rng.getrandbits(32):08X}"
                        if serial not in serials:
                            serials.add(serial)
                            break
                    drafts.append(_OnuDraft(spec.name, model.vendor, spec.pon_class, fsp, onu_id, serial))
                    onu_id += 2 if rng.random() < 0.05 else 1  # a deleted ONT leaves a gap
                ports.append(drafts)
            drafts_by_olt[spec.name] = ports

    # ---- households
    if pipeline_households is None:
        pipeline_households = round(onus * 0.04)
    spare = [d.households - n for d, n in zip(districts, onus_per_district, strict=True)]
    pipeline = [min(s, x) for s, x in zip(spare, _largest_remainder(pipeline_households, spare), strict=True)]
    hrng = _rng(seed, "households")
    households: list[Household] = []
    contacts: list[HouseholdContact] = []
    active_codes: dict[str, list[str]] = {}
    number = 0
    plans = ("home-1g", "home-200m", "home-10g", "business-1g")
    plan_weights = (70, 20, 5, 5)
    pipeline_states: tuple[HouseholdStatus, ...] = ("applied", "surveyed", "installed")
    for d, n_act, n_pipe in zip(districts, onus_per_district, pipeline, strict=True):
        active: HouseholdStatus = "active"
        statuses = [active] * n_act + [hrng.choice(pipeline_states) for _ in range(n_pipe)]
        hrng.shuffle(statuses)
        for st in statuses:
            number += 1
            code = f"HH-{number:06d}"
            households.append(Household(code, d.code, hrng.choices(plans, plan_weights)[0], st, None))
            contacts.append(
                HouseholdContact(
                    code,
                    f"住民 {number:06d}",
                    f"{d.name} 架空 {number}番地",
                    f"000-0000-{number % 10000:04d}",
                )
            )
            if st == "active":
                active_codes.setdefault(d.code, []).append(code)

    for d in districts:
        codes = list(active_codes.get(d.code, []))
        _rng(seed, "assign", d.code).shuffle(codes)
        it = iter(codes)
        for spec in olts:
            if spec.district == d.code:
                for port_drafts in drafts_by_olt[spec.name]:
                    for dr in port_drafts:
                        dr.household = next(it)

    # ---- faults
    frng = _rng(seed, "faults")
    all_ports = [(name, i) for name, ports in drafts_by_olt.items() for i, _ in enumerate(ports)]
    candidates = [(n, i) for n, i in all_ports if len(drafts_by_olt[n][i]) >= 8]
    cut = set(frng.sample(candidates, min(rates.feeder_cut_ports, len(candidates))))
    ordinary: list[_OnuDraft] = []
    for name, i in all_ports:
        port_drafts = drafts_by_olt[name][i]
        if (name, i) in cut:
            lost = max(1, round(len(port_drafts) * rates.feeder_cut_share))
            for dr in frng.sample(port_drafts, lost):
                dr.state, dr.feeder_cut = "los", True
        else:
            ordinary.extend(port_drafts)

    def pick(rate: float) -> list[_OnuDraft]:
        pool = [dr for dr in ordinary if dr.state == "online" and not dr.weak]
        n = min(len(pool), max(1, round(rate * len(ordinary)))) if rate > 0 else 0
        return frng.sample(pool, n)

    for dr in pick(rates.dying_gasp):
        dr.state = "dying_gasp"
    for dr in pick(rates.los):
        dr.state = "los"
    for dr in pick(rates.weak):
        dr.weak = True

    # ---- optics and the frozen model
    olt_objs: list[Olt] = []
    for n_olt, spec in enumerate(olts):
        model = MODELS[spec.model]
        orng = _rng(seed, "optics", spec.name)
        pon_ports: list[PonPort] = []
        for (frame, slot, port, fsp), drafts in zip(
            port_layout[spec.name], drafts_by_olt[spec.name], strict=True
        ):
            port_tx = _q(orng.uniform(3.0, 5.0) if spec.pon_class == "B+" else orng.uniform(5.0, 7.0), 0.01)
            onu_objs = [_make_onu(dr, port_tx, rates.history, orng) for dr in drafts]
            if_index, pon_index = _pon_index(model.vendor, frame, slot, port)
            online = sum(1 for u in onu_objs if u.online)
            per_home = orng.uniform(1.5e5, 4.0e5)  # bytes/s downstream per online home, evening average
            out_rate = round(online * per_home, 1)
            in_rate = round(out_rate * orng.uniform(0.15, 0.3), 1)
            iface = Interface(
                if_index=if_index,
                name=f"GPON {fsp}" if model.vendor == "huawei" else f"gpon_{fsp}",
                descr=model.gpon_if_descr if model.vendor == "huawei" else f"gpon_{fsp}",
                if_type=250,
                speed_bps=2_488_320_000,
                mtu=2000 if model.vendor == "huawei" else 1500,
                oper_up=online > 0,
                alias=f"{spec.district} feeder {fsp}" if drafts else "",
                in_octets=orng.randrange(10**9, 10**12) if drafts else 0,
                out_octets=orng.randrange(10**10, 10**13) if drafts else 0,
                in_rate=in_rate,
                out_rate=out_rate,
                in_ucast=orng.randrange(10**6, 10**9) if drafts else 0,
                out_ucast=orng.randrange(10**7, 10**10) if drafts else 0,
                in_errors=orng.randrange(0, 50) if drafts else 0,
                out_errors=0,
                in_discards=orng.randrange(0, 20) if drafts else 0,
                out_discards=orng.randrange(0, 5) if drafts else 0,
            )
            pon_ports.append(
                PonPort(
                    olt=spec.name,
                    name=fsp,
                    frame=frame,
                    slot=slot,
                    port=port,
                    pon_index=pon_index,
                    interface=iface,
                    onus=tuple(onu_objs),
                    feeder_cut=any(dr.feeder_cut for dr in drafts),
                    temperature_c=orng.randint(30, 45),
                    voltage_v=_q(orng.uniform(3.2, 3.35), 0.01),
                    bias_ma=orng.randint(18, 45),
                    tx_dbm=port_tx,
                )
            )
        total_out = sum(p.interface.out_rate for p in pon_ports)
        total_in = sum(p.interface.in_rate for p in pon_ports)
        uplinks: list[Interface] = []
        for k, (slot, port) in enumerate(model.uplinks):
            share = 0.6 if k == 0 else 0.4
            name = f"ethernet0/{slot}/{port}" if model.vendor == "huawei" else f"xgei_1/{slot}/{port}"
            uplinks.append(
                Interface(
                    if_index=_uplink_index(model.vendor, slot, port),
                    name=name,
                    descr=f"Huawei-{spec.model}-ETHERNET" if model.vendor == "huawei" else name,
                    if_type=6,
                    speed_bps=10_000_000_000,
                    mtu=1500,
                    oper_up=True,
                    alias=f"{spec.name} uplink {k + 1}",
                    in_octets=orng.randrange(10**12, 10**14),
                    out_octets=orng.randrange(10**11, 10**13),
                    in_rate=round(total_out * share, 1),  # what the homes download enters the uplink
                    out_rate=round(total_in * share, 1),
                    in_ucast=orng.randrange(10**9, 10**11),
                    out_ucast=orng.randrange(10**9, 10**11),
                    in_errors=orng.randrange(0, 10),
                    out_errors=0,
                    in_discards=orng.randrange(0, 100),
                    out_discards=orng.randrange(0, 100),
                )
            )
        olt_objs.append(
            Olt(
                name=spec.name,
                district=spec.district,
                vendor=model.vendor,
                model=spec.model,
                pon_class=spec.pon_class,
                auth=spec.auth,
                address=f"{host}:{base_port + n_olt}",
                sys_descr=model.sys_descr,
                sys_object_id=model.sys_object_id,
                uptime_ticks=orng.randrange(100 * 86400 * 3, 100 * 86400 * 400),
                uplinks=tuple(uplinks),
                pon_ports=tuple(pon_ports),
            )
        )

    onu_serial_by_household = {u.household: u.serial for o in olt_objs for u in o.onus()}
    households = [dataclasses.replace(h, onu_serial=onu_serial_by_household.get(h.code)) for h in households]

    school_objs, tablets = _make_schools(seed, districts, schools, pupils)
    port = base_port + len(olt_objs)
    stations = _make_bwa_stations(seed, bwa_stations, rates, host, port)
    gateways = _make_vpn_gateways(seed, vpn_gateways, staff, host, port + len(stations))
    routers = (_make_school_routers(seed, school_objs, tablets, host, port + len(stations) + len(gateways))
               if school_routers else [])
    return Town(
        seed=seed,
        districts=tuple(District(d.code, d.name, d.households) for d in districts),
        olts=tuple(olt_objs),
        households=tuple(households),
        contacts=tuple(contacts),
        schools=tuple(school_objs),
        tablets=tuple(tablets),
        bwa_stations=tuple(stations),
        vpn_gateways=tuple(gateways),
        school_routers=tuple(routers),
        staff=staff,
    )


def _ethernet(rng: random.Random, if_index: int, name: str, descr: str, alias: str, speed_bps: int,
              in_rate: float, out_rate: float) -> Interface:
    """An Ethernet port of a BWA station or a gateway, its counters moving at the given bytes/s."""
    return Interface(
        if_index=if_index, name=name, descr=descr, if_type=6, speed_bps=speed_bps, mtu=1500, oper_up=True,
        alias=alias, in_octets=rng.randrange(10**10, 10**13), out_octets=rng.randrange(10**10, 10**13),
        in_rate=round(in_rate, 1), out_rate=round(out_rate, 1), in_ucast=rng.randrange(10**8, 10**10),
        out_ucast=rng.randrange(10**8, 10**10), in_errors=rng.randrange(0, 5), out_errors=0,
        in_discards=rng.randrange(0, 20), out_discards=rng.randrange(0, 20),
    )  # fmt: skip


#: a 20 MHz TD-LTE carrier in the BWA band, config 2: what a full cell carries (kbit/s)
BWA_DL_CAPACITY_KBPS = 95_000
BWA_UL_CAPACITY_KBPS = 20_000


def _make_bwa_stations(
    seed: int, specs: Sequence[BwaSpec], rates: FaultRates, host: str, base_port: int
) -> list[BwaStation]:
    """1–3 cells a station; UEs, throughput and PRB use drawn per cell, PRB use following throughput."""
    drafts: list[tuple[BwaSpec, list[BwaCell], random.Random]] = []
    for spec in specs:
        rng = _rng(seed, "bwa", spec.name)
        cells: list[BwaCell] = []
        for i in range(rng.randint(1, 3)):
            ues = rng.randint(4, 48)
            dl = min(BWA_DL_CAPACITY_KBPS, ues * rng.randint(300, 1800))
            ul = min(BWA_UL_CAPACITY_KBPS, round(dl * rng.uniform(0.12, 0.25)))
            cells.append(BwaCell(
                index=i, up=True, rf_on=True, connected_ues=ues, dl_kbps=dl, ul_kbps=ul,
                dl_prb_pct=min(98, round(100 * dl / BWA_DL_CAPACITY_KBPS + rng.uniform(5, 15))),
                ul_prb_pct=min(98, round(100 * ul / BWA_UL_CAPACITY_KBPS + rng.uniform(3, 10))),
                rrc_success_pct=rng.randint(97, 100), erab_success_pct=rng.randint(98, 100),
            ))  # fmt: skip
        drafts.append((spec, cells, rng))
    frng = _rng(seed, "bwa-faults")
    candidates = [(k, c.index) for k, (_, cells, _) in enumerate(drafts) if len(cells) >= 2 for c in cells[1:]]
    for k, i in frng.sample(candidates, min(rates.bwa_cells_down, len(candidates))):
        cells = drafts[k][1]
        cells[i] = BwaCell(i, False, False, 0, 0, 0, 0, 0, None, None)
    stations: list[BwaStation] = []
    for n, (spec, cells, rng) in enumerate(drafts):
        dl_bytes = sum(c.dl_kbps for c in cells) * 1000 / 8
        ul_bytes = sum(c.ul_kbps for c in cells) * 1000 / 8
        stations.append(BwaStation(
            name=spec.name, district=spec.district, model=spec.model, auth=spec.auth,
            address=f"{host}:{base_port + n}",
            sys_descr=f"Baicells {spec.model} eNB BaiBS_RTS_3.7.5 (simulated)",
            sys_object_id="1.3.6.1.4.1.53058", uptime_ticks=rng.randrange(100 * 86400 * 3, 100 * 86400 * 200),
            s1_up=True, cells=tuple(cells),
            # what the subscribers download enters the station from the backhaul
            uplinks=(_ethernet(rng, 1, "eth0", "eth0", f"{spec.name} backhaul", 1_000_000_000, dl_bytes, ul_bytes),),
        ))  # fmt: skip
    return stations


def _make_vpn_gateways(seed: int, specs: Sequence[VpnSpec], staff: int, host: str, base_port: int) -> list[VpnGateway]:
    gateways: list[VpnGateway] = []
    for n, spec in enumerate(specs):
        rng = _rng(seed, "vpn", spec.name)
        gateways.append(VpnGateway(
            name=spec.name, vendor="cisco_asa", model=spec.model, auth=spec.auth, address=f"{host}:{base_port + n}",
            sys_descr="Cisco Adaptive Security Appliance Version 9.16(4) (simulated)",
            sys_object_id="1.3.6.1.4.1.9.1.2404",  # as the ASA of the LibreNMS peer walk
            uptime_ticks=rng.randrange(100 * 86400 * 3, 100 * 86400 * 200),
            licence_sessions=spec.licence_sessions, staff=staff, telework_share=spec.telework_share,
            groups=VPN_GROUPS,
            tunnels=tuple(IpsecTunnel(index, peer, True) for index, peer in
                          zip(sorted(rng.sample(range(1000, 60000), len(VPN_BRANCH_TUNNELS))), VPN_BRANCH_TUNNELS,
                              strict=True)),
            uplinks=tuple(
                _ethernet(rng, i + 1, name, f"Adaptive Security Appliance '{name}' interface", name,
                          1_000_000_000, rng.uniform(2e5, 2e6), rng.uniform(2e5, 2e6))
                for i, name in enumerate(("outside", "inside", "management"))
            ),
        ))  # fmt: skip
    return gateways


#: a Yamaha RTX1220's identity (the model most Japanese schools' GIGA routers are, or its kin)
ROUTER_MODEL = "RTX1220"
ROUTER_SYS_DESCR = "RTX1220 Rev.15.04.24 (Fri Jun 16 11:12:21 2023) (simulated)"
ROUTER_SYS_OBJECT_ID = "1.3.6.1.4.1.1182.1"
#: the router's interface towards the town's network (the school's uplink) and its name suffix
ROUTER_UPLINK = "LAN2"
ROUTER_SUFFIX = "-rtx"
#: the uplink's peak as a share of the school's MEXT recommended bandwidth: some schools meet it, some not
ROUTER_PEAK_SHARE = (0.4, 1.2)
#: the share of a school's tablets online (in its router's ARP table) at any time
TABLETS_ONLINE_SHARE = (0.7, 0.9)
#: the school LAN (``LAN1``, ifIndex 1) the tablets are on
ROUTER_LAN_IF_INDEX = 1
#: the first address a tablet gets on its school's LAN (below: the router, printers, staff PCs)
ROUTER_LAN_FIRST_TABLET = 16


def router_lan_network(n: int) -> ipaddress.IPv4Network:
    """The LAN of the ``n``-th school (0 first): a /21 in 10.128.0.0/9 (2,046 hosts, room for the largest
    school). The simulated SSH router's DHCP scope (``simulator.cli.town``, 10.64.n.0/24) is a separate
    toy: it admits enrolled tablets, it is not where this ARP table's tablets live."""
    if not 0 <= n < 4096:
        raise ValueError(f"no simulated school LAN for school number {n}")
    return ipaddress.IPv4Network((0x0A800000 + n * 2048, 21))


def _router_arp(seed: int, n: int, school: str, tablets: Sequence[Tablet]) -> tuple[ArpEntry, ...]:
    """The ARP table of the ``n``-th school's router: a deterministic 70–90 % of its tablets, each at a
    fixed address on the school LAN (its position in the school's tablet list), sorted by address."""
    rng = _rng(seed, "school-router-arp", school)
    share = rng.uniform(*TABLETS_ONLINE_SHARE)
    online = sorted(rng.sample(range(len(tablets)), round(share * len(tablets))))
    net = router_lan_network(n)
    if len(tablets) + ROUTER_LAN_FIRST_TABLET >= net.num_addresses - 1:
        raise ValueError(f"school {school}: {len(tablets)} tablets do not fit its simulated LAN {net}")
    return tuple(ArpEntry(ROUTER_LAN_IF_INDEX, str(net[ROUTER_LAN_FIRST_TABLET + k]), tablets[k].mac)
                 for k in online)


def router_name(school: str) -> str:
    """The SNMP target name of a school's router: ``SCH-01`` -> ``sch-01-rtx``."""
    return f"{school.lower()}{ROUTER_SUFFIX}"


def _make_school_routers(seed: int, schools: Sequence[School], tablets: Sequence[Tablet], host: str,
                         base_port: int) -> list[SchoolRouter]:
    """One router per school. The uplink's busier direction (downloads, in) runs at 40–120 % of the
    school's MEXT target; the school LAN carries the same traffic the other way round. Its ARP table
    lists the school's online tablets (``_router_arp``, from its own random stream)."""
    routers: list[SchoolRouter] = []
    by_school: dict[str, list[Tablet]] = {}
    for t in tablets:
        by_school.setdefault(t.school, []).append(t)
    for n, school in enumerate(schools):
        rng = _rng(seed, "school-router", school.code)
        down = mext_mbps(school.pupils) * rng.uniform(*ROUTER_PEAK_SHARE) * 1e6 / 8  # bytes/s
        up = down * rng.uniform(0.1, 0.3)
        name = router_name(school.code)
        lan = (
            _ethernet(rng, 1, "LAN1", "LAN1", f"{school.code} school LAN", 1_000_000_000, up, down * 0.98),
            _ethernet(rng, 2, ROUTER_UPLINK, ROUTER_UPLINK, f"{school.code} uplink", 1_000_000_000, down, up),
        )
        routers.append(SchoolRouter(
            name=name, school=school.code, district=school.district, model=ROUTER_MODEL, auth=V2_AUTH_NAME,
            address=f"{host}:{base_port + n}", sys_descr=ROUTER_SYS_DESCR, sys_object_id=ROUTER_SYS_OBJECT_ID,
            uptime_ticks=rng.randrange(100 * 86400 * 3, 100 * 86400 * 300), lan=lan,
            arp=_router_arp(seed, n, school.code, by_school.get(school.code, [])),
        ))  # fmt: skip
    return routers


_HISTORY_CAUSES: tuple[DownCause, ...] = ("dying_gasp", "los", "losi", "lofi")
_HISTORY_WEIGHTS = (70, 15, 10, 5)


def _make_onu(dr: _OnuDraft, port_tx: float, history_rate: float, rng: random.Random) -> Onu:
    """Draw one ONU's readings. The draws happen for offline ONUs too, so that a fault does not shift
    the random stream of the ONUs after it."""
    distance = int(rng.triangular(300, 20000, 4000))
    base = -22.0 if dr.pon_class == "B+" else -23.5
    rx = base - 0.12 * (distance / 1000 - 8) + rng.gauss(0, 0.9)
    rx = min(-15.0, max(-26.5, rx))
    if dr.weak:
        rx = rng.uniform(-29.5, -27.1)
    tx = min(4.5, max(0.8, rng.gauss(2.5, 0.4)))
    upstream_loss = (port_tx - rx) + rng.gauss(0.5, 0.3)
    olt_rx = _q(tx - upstream_loss, 0.01)
    temperature = rng.randint(35, 55)
    history = rng.random() < history_rate
    past_cause = rng.choices(_HISTORY_CAUSES, _HISTORY_WEIGHTS)[0]
    los_cause: DownCause = "losi" if dr.feeder_cut else rng.choice(("los", "losi"))

    rx_q = _q(rx, 0.01) if dr.vendor == "huawei" else _q(rx, 0.002)
    if dr.state != "online":
        cause: DownCause = "dying_gasp" if dr.state == "dying_gasp" else los_cause
        return Onu(dr.serial, dr.olt, dr.pon_port, dr.onu_id, dr.household, dr.state, cause,
                   None, None, None, None, None)  # fmt: skip
    huawei = dr.vendor == "huawei"
    return Onu(
        serial=dr.serial,
        olt=dr.olt,
        pon_port=dr.pon_port,
        onu_id=dr.onu_id,
        household=dr.household,
        state="online",
        last_down_cause=past_cause if history else None,
        rx_dbm=rx_q,
        tx_dbm=_q(tx, 0.01) if huawei else None,
        olt_rx_dbm=olt_rx,
        distance_m=distance,
        temperature_c=temperature if huawei else None,
    )


_SCHOOL_SUFFIXES = ("", "東", "西", "南", "北")


def _make_schools(
    seed: int, districts: Sequence[DistrictSpec], n: int, pupils: tuple[int, int]
) -> tuple[list[School], list[Tablet]]:
    """Schools spread over the districts by households; one tablet per pupil (GIGA school)."""
    rng = _rng(seed, "schools")
    per_district = _largest_remainder(n, [d.households for d in districts])
    # every district keeps a school while there are enough to go round
    for i in range(len(per_district)):
        if per_district[i] == 0 and n >= len(districts):
            j = per_district.index(max(per_district))
            per_district[j] -= 1
            per_district[i] += 1
    schools: list[School] = []
    tablets: list[Tablet] = []
    mac_counter = 0
    serials: set[str] = set()
    for d, k in zip(districts, per_district, strict=True):
        os_name = rng.choice(("ChromeOS", "ChromeOS", "iPadOS", "Windows"))
        for j in range(k):
            level: Literal["elementary", "junior_high"] = "junior_high" if j == 1 else "elementary"
            suffix = (
                _SCHOOL_SUFFIXES[j - 1] if 1 < j <= len(_SCHOOL_SUFFIXES) else (f"第{j}" if j > 1 else "")
            )
            kind = "中学校" if level == "junior_high" else "小学校"
            code = f"SCH-{len(schools) + 1:02d}"
            count = rng.randint(*pupils)
            school = School(code, f"{d.name}{suffix}{kind}", d.code, count, level)
            schools.append(school)
            grades = 3 if level == "junior_high" else 6
            per_grade = _largest_remainder(count, [1.0] * grades)
            asset = 0
            for grade, in_grade in enumerate(per_grade, start=1):
                classes = max(1, math.ceil(in_grade / 35))
                for pupil in range(in_grade):
                    asset += 1
                    mac_counter += 1
                    mac_int = 0x02_4B_48_00_00_00 + mac_counter  # locally administered, unique
                    mac = ":".join(f"{(mac_int >> s) & 0xFF:02x}" for s in range(40, -8, -8))
                    while True:
                        serial = f"GIGA{rng.getrandbits(40):010X}"
                        if serial not in serials:
                            serials.add(serial)
                            break
                    tablets.append(
                        Tablet(
                            school=code,
                            asset_no=f"{code}-T{asset:04d}",
                            serial=serial,
                            mac=mac,
                            os=os_name,
                            grade=grade,
                            class_name=f"{grade}-{pupil % classes + 1}",
                        )
                    )
    return schools, tablets
