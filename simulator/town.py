"""The simulated town: a deterministic model of Kitahiroshima's FTTH network and its subscribers.

Everything the demo, the tests and the benchmarks need comes from one seed, so that a test can compute
the value an agent must return (``onu.rx_dbm``) from the same plain dataclasses that produced the agent's
data file. Optical values are quantised to the resolution of the vendor's encoding (0.01 dB for Huawei,
0.002 dB for the ZTE ONU Rx column), so that decoding the raw SNMP integer gives the model's value back.

The town also has its regional BWA (地域BWA) base stations, in the districts the fibre reaches last, and
the town office's telework VPN gateways (an ASA and a FortiGate), whose sessions follow a working-day curve of the staff
(``simulator.variation.telework``, computed when the agent answers). On request
(``generate_town(school_routers=True)``) every school gets its router as an SNMP device, its uplink's
counters moving at a rate near the school's MEXT recommended bandwidth, and its ARP table listing the
school's tablets that are online (a deterministic 70–90 % of them, ``SchoolRouter.arp``).

All personal data is a synthetic placeholder (``住民 000123``); nothing here resembles a real person.

This module is the town's one import path; the parts live in their own modules:

- ``simulator.specs``: what to build (districts, OLTs, BWA, VPN, fault rates, chassis, demo credentials)
- ``simulator.devices``: what the agents serve (OLTs, PON ports, ONUs, BWA stations, gateway, routers)
- ``simulator.people``: districts, households and contacts, schools and tablets
- ``simulator.model``: ``Town``, the whole, with its look-ups
- ``simulator.documents``: the inventory document and the poller configuration of a town
- ``simulator.generate``: ``generate_town`` and one module per part of the town it draws
"""

from __future__ import annotations

from simulator.devices import (
    ROUTER_UPLINK,
    WEAK_RX_DBM,
    ArpEntry,
    BwaCell,
    BwaStation,
    Device,
    DownCause,
    Interface,
    IpsecTunnel,
    Olt,
    Onu,
    OnuState,
    PonClass,
    PonPort,
    SchoolRouter,
    Vendor,
    VpnGateway,
)
from simulator.generate import generate_town
from simulator.generate.bwa_vpn import BWA_DL_CAPACITY_KBPS, BWA_UL_CAPACITY_KBPS
from simulator.generate.fibre import MAX_ONUS_PER_PORT, PORTS_PER_BOARD
from simulator.generate.schools import (
    ROUTER_LAN_FIRST_TABLET,
    ROUTER_LAN_IF_INDEX,
    ROUTER_MODEL,
    ROUTER_PEAK_SHARE,
    ROUTER_SUFFIX,
    ROUTER_SYS_DESCR,
    ROUTER_SYS_OBJECT_ID,
    TABLETS_ONLINE_SHARE,
    router_lan_network,
    router_name,
)
from simulator.model import Town
from simulator.people import District, Household, HouseholdContact, HouseholdStatus, School, Tablet
from simulator.specs import (
    COMMUNITY,
    DEFAULT_BWA_STATIONS,
    DEFAULT_DISTRICTS,
    DEFAULT_OLTS,
    DEFAULT_STAFF,
    DEFAULT_VPN_GATEWAYS,
    DEMO_V3_USERS,
    MODELS,
    OLT_CLI_AUTH,
    ROUTER_CLI_AUTH,
    V2_AUTH_NAME,
    VPN_BRANCH_TUNNELS,
    VPN_GROUPS,
    BwaSpec,
    DistrictSpec,
    FaultRates,
    ModelSpec,
    OltSpec,
    SnmpUser,
    VpnSpec,
)

__all__ = [
    "BWA_DL_CAPACITY_KBPS",
    "BWA_UL_CAPACITY_KBPS",
    "COMMUNITY",
    "DEFAULT_BWA_STATIONS",
    "DEFAULT_DISTRICTS",
    "DEFAULT_OLTS",
    "DEFAULT_STAFF",
    "DEFAULT_VPN_GATEWAYS",
    "DEMO_V3_USERS",
    "MAX_ONUS_PER_PORT",
    "MODELS",
    "OLT_CLI_AUTH",
    "PORTS_PER_BOARD",
    "ROUTER_CLI_AUTH",
    "ROUTER_LAN_FIRST_TABLET",
    "ROUTER_LAN_IF_INDEX",
    "ROUTER_MODEL",
    "ROUTER_PEAK_SHARE",
    "ROUTER_SUFFIX",
    "ROUTER_SYS_DESCR",
    "ROUTER_SYS_OBJECT_ID",
    "ROUTER_UPLINK",
    "TABLETS_ONLINE_SHARE",
    "V2_AUTH_NAME",
    "VPN_BRANCH_TUNNELS",
    "VPN_GROUPS",
    "WEAK_RX_DBM",
    "ArpEntry",
    "BwaCell",
    "BwaSpec",
    "BwaStation",
    "Device",
    "District",
    "DistrictSpec",
    "DownCause",
    "FaultRates",
    "Household",
    "HouseholdContact",
    "HouseholdStatus",
    "Interface",
    "IpsecTunnel",
    "ModelSpec",
    "Olt",
    "OltSpec",
    "Onu",
    "OnuState",
    "PonClass",
    "PonPort",
    "School",
    "SchoolRouter",
    "SnmpUser",
    "Tablet",
    "Town",
    "Vendor",
    "VpnGateway",
    "VpnSpec",
    "generate_town",
    "router_lan_network",
    "router_name",
]
