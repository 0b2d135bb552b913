"""What to build: the town's districts, OLTs, BWA stations and VPN gateways as configuration, the shares
of faulty ONUs, the chassis models the OLTs can be, and the demo's fixed credentials.

These are the arguments of ``generate_town`` (``simulator.generate``); the defaults describe
Kitahiroshima. Household counts are not published per district: they are configuration too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from simulator.devices import PonClass, Vendor


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
    #: Share of Huawei ONUs down on purpose now: deactivated by the operator or their optics shut
    #: (HUAWEI-XPON-MIB last down causes 8 and 30): down, but not a fault.
    deliberate: float = 0.003
    #: BWA stations out of service (cell status down, RF off) while their S1 link to the core stays up.
    bwa_stations_down: int = 1


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


#: The moment the generated town's clocks stand at (last up / down times are drawn before it), so that a
#: seed gives the same town on every machine: 2026-12-01 00:00 JST. Faults injected later use the real clock.
TOWN_CLOCK = 1796050800
#: The OLTs' clocks are set to JST; the Huawei agents send their times with that offset (RFC 2579, 11 octets).
OLT_UTC_OFFSET_MINUTES = 540
#: Huawei ONT models (equipment ID, main software version) the town's homes have, as the OLT reports them.
HUAWEI_ONT_MODELS: tuple[tuple[str, str], ...] = (
    ("EG8145V5", "V5R020C00S115"), ("HG8245H", "V3R017C10S115"), ("EG8145X6-10", "V5R021C00S210"),
    ("HG8010H", "V3R017C10S207"), ("HN8245Q", "V5R020C10S127"),
)  # fmt: skip

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
    """One regional BWA base station (eNB) to build; it gets 1–2 cells (carriers)."""

    name: str
    district: str
    model: str = "Nova233"
    auth: str = V2_AUTH_NAME


@dataclass(frozen=True, slots=True)
class VpnSpec:
    """A telework VPN gateway of the town office and its licence (concurrent remote-access sessions).
    ``staff_share`` of the town's staff connect through it (the gateways' shares add up to 1)."""

    name: str
    vendor: Literal["cisco_asa", "fortigate"] = "cisco_asa"
    model: str = "ASA 5516-X"
    licence_sessions: int = 100
    #: share of the staff that teleworks on a working day (sessions at the plateau: staff × share)
    telework_share: float = 0.3
    staff_share: float = 1.0
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
#: The town hall's ASA (AnyConnect, IPsec client, WebVPN; site-to-site tunnels to the branch offices) and
#: the Board of Education's FortiGate (SSL-VPN and FortiClient dial-up IPsec) for its share of the staff.
DEFAULT_VPN_GATEWAYS: tuple[VpnSpec, ...] = (
    VpnSpec("telework-vpn1", staff_share=0.8),
    VpnSpec("telework-vpn2", vendor="fortigate", model="FortiGate-100F", licence_sessions=50, staff_share=0.2,
            auth=V2_AUTH_NAME),
)
#: Staff of the town office: configuration (the number the telework KPI compares sessions with).
DEFAULT_STAFF = 300
#: Tunnel-groups of the gateway and their share of the sessions (ASA lists its default group too).
VPN_GROUPS: tuple[tuple[str, float], ...] = (
    ("telework", 85.0), ("it-admin", 10.0), ("vendor-maint", 5.0), ("DefaultRAGroup", 0.0),
)  # fmt: skip
#: Remote-access protocols and their share of a gateway's sessions (most staff on the full client).
VPN_PROTOCOLS: dict[str, tuple[tuple[str, float], ...]] = {
    "cisco_asa": (("ipsec", 7.0), ("svc", 90.0), ("webvpn", 3.0)),
    "fortigate": (("ssl", 70.0), ("ipsec", 30.0)),
}
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
