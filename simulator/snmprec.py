"""snmpsim data files (``.snmprec``) for the simulated town's OLTs, one file per OLT.

A line is ``OID|TAG|VALUE``; snmpsim binary-searches the file, so lines are sorted by the OID as a
tuple of integers (text order would put ``.10`` before ``.9``). Raw values come from the ``Town`` model
through the small encoders below, which are the vendor's scaling run backwards: a collector that decodes
the raw integer gets the model's value exactly (0.01 dB Huawei, 0.002 dB ZTE ONU Rx).

Vendor codes written here (DOMAIN.md; ZTE codes are *verify*, chosen to mirror Huawei's):

- Huawei ``hwGponDeviceOntControlLastDownCause`` (.46.1.24): 1 LOS, 2 LOSi, 3 LOFi, 4 SFi, 5 LOAi,
  6 LOAMi, 13 dying-gasp, and the ONT taken down on purpose: 8 deactivated, 9 reset, 30 optics shut
  down, 32 reset by the button, 33 reset by the ONT's software; -1 never down. The last up, down and
  dying-gasp times (.46.1.22 / .23 / .25) are DateAndTime, 11 octets at the OLT's JST offset, all zeros
  for never; the version table (.45.1.4 / .5) holds the ONT's model and firmware; each PON port has its
  state and laser switch (.21.1.10 / .9: 1 up / on, 2 down / off).
- ZTE (``ftthnoc/vendors/zte``, sources there): last down cause (.28.2.1.7) 2 LOS, 3 LOSi, 4 LOFi, 5 SFi,
  6 LOAi, 7 LOAMi, 9 power off (dying gasp); 0 never down. Phase state (.28.2.1.4, ZXGPON-SERVICE-MIB):
  1 LOS, 3 working, 4 dyingGasp. The optics table (.50.12.1.1) is indexed {pon}.{onu}.1 and holds
  16-bit two's-complement levels sent unsigned: Rx .10 and Tx .14 as raw × 0.002 − 30 (a line below
  −30 dBm is sent as 32768–65534), temperature .19 in 1/256 °C.
- Offline ONUs: Huawei returns 2147483647 in every optical column (.51.1.x) and distance -1; ZTE returns
  65535 in the optics columns, -80000 for the OLT-side Rx and distance -1.
- BWA eNB (BAICELLS-MIB, the baicells pack's sources): per cell at instance .{cell}.0 (1 the first
  carrier): UEs .100.11, UL/DL throughput in kbit/s .190.7/.190.8, UL/DL PRB use in whole percent
  .190.9/.190.10. The station's scalars: cell status .100.5.0 (1 in service / 0 not), S1 .100.21.0 and RF
  .270.1.1.0 (1 up / 0 down), RRC and E-RAB success .190.6.0/.190.3.0 in percent (no instance while out of
  service).
- School router (Yamaha RTX1220): the system group, IF-MIB (``LAN2`` the school's uplink) and the ARP
  table (ipNetToMediaTable, index ifIndex.a.b.c.d: ifIndex, the MAC as 6 octets, the IpAddress,
  type dynamic(3)) with the school's online tablets.
- VPN gateways: sessions are ``telework`` variation records (``simulator.variation.telework``: computed
  from the clock when asked). Cisco ASA: remote-access sessions per kind (crasIPSecNumSessions,
  crasSVCNumSessions, crasWebvpnNumSessions), crasNumSessions = those plus the LAN-to-LAN tunnels
  (crasL2LNumSessions), per-group users, the licence crasMaxSessionsSupportable; site-to-site tunnels are
  cipSecTunnelTable rows, status active(1). FortiGate: fgVpnSslStatsLoginUsers for VDOM root and one
  fgVpnDialupTable row per dial-up IPsec peer, present only while the peer is connected.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ftthnoc.errors import ConfigError
from simulator.devices import (
    BwaStation,
    Device,
    DownCause,
    Interface,
    Olt,
    Onu,
    PonPort,
    SchoolRouter,
    VpnGateway,
)
from simulator.model import Town
from simulator.specs import OLT_UTC_OFFSET_MINUTES
from simulator.vendors import olt_profile

Record = tuple[tuple[int, ...], str, str]

# ---- sentinels and codes
HUAWEI_NO_READING = 2147483647
ZTE_RX_NO_READING = 65535
ZTE_OLT_RX_NO_SIGNAL = -80000
HUAWEI_DOWN_CAUSE: dict[DownCause, int] = {
    "los": 1, "losi": 2, "lofi": 3, "sfi": 4, "loai": 5, "loami": 6, "dying_gasp": 13,
    "deactivated": 8, "reset": 9, "optics_shutdown": 30, "reset_by_button": 32, "reset_by_software": 33,
    "rogue_ont": 37,
}  # fmt: skip
HUAWEI_NEVER_DOWN = -1
ZTE_DOWN_CAUSE: dict[DownCause, int] = {
    "los": 2, "losi": 3, "lofi": 4, "sfi": 5, "loai": 6, "loami": 7, "dying_gasp": 9,
}  # fmt: skip
ZTE_NEVER_DOWN = 0
ZTE_PHASE = {"online": 3, "los": 1, "dying_gasp": 4}

# ---- OID roots
SYSTEM = (1, 3, 6, 1, 2, 1, 1)
IF_NUMBER = (1, 3, 6, 1, 2, 1, 2, 1, 0)
IF_ENTRY = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IFX_ENTRY = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
HW_XPON = (1, 3, 6, 1, 4, 1, 2011, 6, 128, 1, 1, 2)
ZTE_V1 = (1, 3, 6, 1, 4, 1, 3902, 1012, 3)
ZTE_OLT_RX = (1, 3, 6, 1, 4, 1, 3902, 1015, 1010, 11, 2, 1, 2)
BAICELLS = (1, 3, 6, 1, 4, 1, 53058)
CRAS = (1, 3, 6, 1, 4, 1, 9, 9, 392, 1)  # CISCO-REMOTE-ACCESS-MONITOR-MIB objects
CIPSEC_TUNNEL = (1, 3, 6, 1, 4, 1, 9, 9, 171, 1, 3, 2, 1)  # cipSecTunnelEntry
FG_VPN = (1, 3, 6, 1, 4, 1, 12356, 101, 12)  # FORTINET-FORTIGATE-MIB fgVpn
IP_NET_TO_MEDIA = (1, 3, 6, 1, 2, 1, 4, 22, 1)  # ipNetToMediaEntry (the ARP table)
#: the snmpsim variation module (``simulator/variation/telework.py``) behind the VPN session records
TELEWORK_VARIATION = "telework"


# ---- encoders: model value -> raw integer the agent returns
def huawei_dbm_raw(dbm: float | None) -> int:
    """ONT Rx/Tx and port Tx power: 0.01 dBm units."""
    return HUAWEI_NO_READING if dbm is None else round(dbm * 100)


def huawei_olt_rx_raw(dbm: float | None) -> int:
    """Power received at the OLT from an ONT: raw = dBm·100 + 10000."""
    return HUAWEI_NO_READING if dbm is None else round(dbm * 100) + 10000


def huawei_date_and_time(at: int | None, offset_minutes: int = OLT_UTC_OFFSET_MINUTES) -> str:
    """A DateAndTime (RFC 2579) as hex: 11 octets, local time at ``offset_minutes`` east of UTC and the
    offset; all zeros for never."""
    if at is None:
        return "00" * 11
    t = datetime.fromtimestamp(at, UTC) + timedelta(minutes=offset_minutes)
    sign, off = ("+", offset_minutes) if offset_minutes >= 0 else ("-", -offset_minutes)
    raw = bytes([t.year >> 8, t.year & 0xFF, t.month, t.day, t.hour, t.minute, t.second, 0,
                 ord(sign), off // 60, off % 60])
    return raw.hex()


def zte_rx_raw(dbm: float | None) -> int:
    """ZTE ONU Rx and Tx: dBm = signed16(raw)·0.002 − 30, sent unsigned (−33.008 dBm is 64032); 65535
    offline."""
    return ZTE_RX_NO_READING if dbm is None else round((dbm + 30) * 500) & 0xFFFF


def zte_temperature_raw(celsius: float | None) -> int:
    """ZTE ONU optics temperature: 1/256 °C, 16-bit two's complement sent unsigned; 65535 offline."""
    return ZTE_RX_NO_READING if celsius is None else round(celsius * 256) & 0xFFFF


def zte_olt_rx_raw(dbm: float | None) -> int:
    """ZTE power received at the OLT: dBm = raw / 1000, −80000 no signal."""
    return ZTE_OLT_RX_NO_SIGNAL if dbm is None else round(dbm * 1000)


# ---- value helpers
def _str(text: str) -> tuple[str, str]:
    """Plain text when snmpsim reads it back unchanged, else hex (non-ASCII, edge spaces, escapes)."""
    if text.isascii() and text.isprintable() and text == text.strip() and "\\" not in text:
        return "4", text
    return "4x", text.encode("utf-8").hex()


def _serial_hex(serial: str) -> str:
    """``HWTC1A2B3C4D`` -> 8 octets: the vendor id in ASCII, then 4 bytes."""
    return serial[:4].encode("ascii").hex() + serial[4:].lower()


def _counter(tag: str, initial: int, rate: float, moving: bool) -> tuple[str, str]:
    if not moving or rate <= 0:
        return tag, str(initial if tag == "70" else initial % 2**32)
    if tag == "70":
        return "70:numeric", f"initial={initial},rate={rate}"
    return f"{tag}:numeric", f"initial={initial % 2**32},rate={rate},wrap=1"


# ---- record builders
def _system(olt: Device, moving: bool, location: str | None = None) -> Iterator[Record]:
    yield (*SYSTEM, 1, 0), *_str(olt.sys_descr)
    yield (*SYSTEM, 2, 0), "6", olt.sys_object_id
    if moving:
        yield (*SYSTEM, 3, 0), "67:numeric", f"initial={olt.uptime_ticks},rate=100,wrap=1"
    else:
        yield (*SYSTEM, 3, 0), "67", str(olt.uptime_ticks)
    yield (*SYSTEM, 4, 0), "4", "noc@kitahiroshima.example (simulated)"
    yield (*SYSTEM, 5, 0), *_str(olt.name)
    yield (*SYSTEM, 6, 0), *_str(f"{location or getattr(olt, 'district', '')} (simulated)")
    yield (*SYSTEM, 7, 0), "2", "78"


def _interfaces(interfaces: list[Interface], moving: bool) -> Iterator[Record]:
    yield IF_NUMBER, "2", str(len(interfaces))
    for i in interfaces:
        yield from _interface(i, moving)


def _interface(i: Interface, moving: bool) -> Iterator[Record]:
    x = (i.if_index,)
    e, f = IF_ENTRY, IFX_ENTRY
    big_speed = min(i.speed_bps, 2**32 - 1)
    oper = "1" if i.oper_up else "2"
    # Huawei numbers its PON ports' interfaces above 2³¹−1 (4194312192 is GPON 0/1/0). snmpsim cannot
    # encode such an Integer32 and answers endOfMibView there, which ended every walk of the whole ifTable
    # after the uplinks. No public recording shows how an MA5800 encodes the ifIndex column's value (the
    # LibreNMS smartax walk leaves the column out), so the simulator sends it as Gauge32; the decoder reads
    # the two alike (and a 5-octet INTEGER too: tests/fixtures/fuzz/ber/ok-huawei-ifindex-above-2-31).
    yield (*e, 1, *x), "2" if i.if_index < 2**31 else "66", str(i.if_index)
    yield (*e, 2, *x), *_str(i.descr)
    yield (*e, 3, *x), "2", str(i.if_type)
    yield (*e, 4, *x), "2", str(i.mtu)
    yield (*e, 5, *x), "66", str(big_speed)
    yield (*e, 6, *x), "4x", f"00e0fc{i.if_index & 0xFFFFFF:06x}" if i.if_type == 6 else "000000000000"
    yield (*e, 7, *x), "2", "1"
    yield (*e, 8, *x), "2", oper
    yield (*e, 9, *x), "67", "0"
    yield (*e, 10, *x), *_counter("65", i.in_octets, i.in_rate, moving)
    yield (*e, 11, *x), *_counter("65", i.in_ucast, i.in_rate / 900, moving)
    yield (*e, 13, *x), "65", str(i.in_discards)
    yield (*e, 14, *x), "65", str(i.in_errors)
    yield (*e, 16, *x), *_counter("65", i.out_octets, i.out_rate, moving)
    yield (*e, 17, *x), *_counter("65", i.out_ucast, i.out_rate / 1200, moving)
    yield (*e, 19, *x), "65", str(i.out_discards)
    yield (*e, 20, *x), "65", str(i.out_errors)
    yield (*f, 1, *x), *_str(i.name)
    for col in (2, 3, 4, 5):  # multicast / broadcast, 32 bit
        yield (*f, col, *x), "65", "0"
    yield (*f, 6, *x), *_counter("70", i.in_octets, i.in_rate, moving)
    yield (*f, 7, *x), *_counter("70", i.in_ucast, i.in_rate / 900, moving)
    yield (*f, 8, *x), "70", "0"
    yield (*f, 9, *x), "70", "0"
    yield (*f, 10, *x), *_counter("70", i.out_octets, i.out_rate, moving)
    yield (*f, 11, *x), *_counter("70", i.out_ucast, i.out_rate / 1200, moving)
    yield (*f, 12, *x), "70", "0"
    yield (*f, 13, *x), "70", "0"
    yield (*f, 14, *x), "2", "1"
    yield (*f, 15, *x), "66", str(i.high_speed_mbps)
    yield (*f, 16, *x), "2", "2"
    yield (*f, 17, *x), "2", "1"
    yield (*f, 18, *x), *_str(i.alias)
    yield (*f, 19, *x), "67", "0"


def _huawei_port(p: PonPort) -> Iterator[Record]:
    x = (p.pon_index,)
    yield (*HW_XPON, 21, 1, 9, *x), "2", "1" if p.laser_on else "2"
    yield (*HW_XPON, 21, 1, 10, *x), "2", "1" if p.up else "2"
    yield (*HW_XPON, 21, 1, 16, *x), "2", str(len(p.onus))
    yield (*HW_XPON, 23, 1, 1, *x), "2", str(p.temperature_c)
    yield (*HW_XPON, 23, 1, 2, *x), "2", str(round(p.voltage_v * 100))
    yield (*HW_XPON, 23, 1, 3, *x), "2", str(p.bias_ma)  # LibreNMS divides by 1000: amperes
    yield (*HW_XPON, 23, 1, 4, *x), "2", str(huawei_dbm_raw(None if p.failed else p.tx_dbm))  # dead: the sentinel


def _huawei_onu(p: PonPort, u: Onu) -> Iterator[Record]:
    x = (p.pon_index, u.onu_id)
    yield (*HW_XPON, 43, 1, 3, *x), "4x", _serial_hex(u.serial)
    yield (*HW_XPON, 43, 1, 9, *x), *_str(u.household)
    if u.model:
        yield (*HW_XPON, 45, 1, 4, *x), *_str(u.model)
        yield (*HW_XPON, 45, 1, 5, *x), *_str(u.firmware)
    yield (*HW_XPON, 46, 1, 15, *x), "2", "1" if u.online else "2"
    yield (*HW_XPON, 46, 1, 20, *x), "2", str(-1 if u.distance_m is None else u.distance_m)
    yield (*HW_XPON, 46, 1, 22, *x), "4x", huawei_date_and_time(u.last_up_at)
    yield (*HW_XPON, 46, 1, 23, *x), "4x", huawei_date_and_time(u.last_down_at)
    cause = HUAWEI_NEVER_DOWN if u.last_down_cause is None else HUAWEI_DOWN_CAUSE[u.last_down_cause]
    yield (*HW_XPON, 46, 1, 24, *x), "2", str(cause)
    yield (*HW_XPON, 46, 1, 25, *x), "4x", huawei_date_and_time(u.last_dying_gasp_at)
    temp = HUAWEI_NO_READING if u.temperature_c is None else u.temperature_c
    yield (*HW_XPON, 51, 1, 1, *x), "2", str(temp)
    yield (*HW_XPON, 51, 1, 3, *x), "2", str(huawei_dbm_raw(u.tx_dbm))
    yield (*HW_XPON, 51, 1, 4, *x), "2", str(huawei_dbm_raw(u.rx_dbm))
    yield (*HW_XPON, 51, 1, 6, *x), "2", str(huawei_olt_rx_raw(u.olt_rx_dbm))


def _zte_onu(p: PonPort, u: Onu) -> Iterator[Record]:
    x = (p.pon_index, u.onu_id)
    ani = (*x, 1)  # the optics table's index: {pon}.{onu}.{ANI}, one ANI per ONU
    yield (*ZTE_V1, 28, 1, 1, 2, *x), *_str(f"gpon-onu_{p.name}:{u.onu_id}")
    yield (*ZTE_V1, 28, 1, 1, 3, *x), *_str(u.household)
    yield (*ZTE_V1, 28, 1, 1, 5, *x), "4x", _serial_hex(u.serial)
    yield (*ZTE_V1, 28, 2, 1, 4, *x), "2", str(ZTE_PHASE[u.state])
    cause = ZTE_NEVER_DOWN if u.last_down_cause is None else ZTE_DOWN_CAUSE[u.last_down_cause]
    yield (*ZTE_V1, 28, 2, 1, 7, *x), "2", str(cause)
    yield (*ZTE_V1, 11, 4, 1, 2, *x), "2", str(-1 if u.distance_m is None else u.distance_m)
    yield (*ZTE_V1, 50, 12, 1, 1, 10, *ani), "2", str(zte_rx_raw(u.rx_dbm))
    yield (*ZTE_V1, 50, 12, 1, 1, 14, *ani), "2", str(zte_rx_raw(u.tx_dbm))
    yield (*ZTE_V1, 50, 12, 1, 1, 19, *ani), "2", str(zte_temperature_raw(u.temperature_c))
    yield ZTE_OLT_RX + x, "2", str(zte_olt_rx_raw(u.olt_rx_dbm))


def _hw_xpon(p: PonPort) -> Iterator[Record]:
    """HUAWEI-XPON-MIB: the port's own rows, then its ONUs'."""
    yield from _huawei_port(p)
    for u in p.onus:
        yield from _huawei_onu(p, u)


def _zxgpon(p: PonPort) -> Iterator[Record]:
    """ZXGPON-SERVICE-MIB / -ONTMGMT-MIB (the V1 tree): the port's ONUs."""
    for u in p.onus:
        yield from _zte_onu(p, u)


#: the writers of an OLT's vendor tables, one PON port at a time, by ``OltProfile.snmprec``
OLT_WRITERS: dict[str, Callable[[PonPort], Iterable[Record]]] = {"hw_xpon": _hw_xpon, "zxgpon": _zxgpon}


def olt_writer(vendor: str) -> Callable[[PonPort], Iterable[Record]]:
    """The writer of that vendor's tables (its profile names it); a clear error when there is none."""
    name = olt_profile(vendor).snmprec
    try:
        return OLT_WRITERS[name]
    except KeyError:
        raise ConfigError(f"the simulator's profile of OLT vendor {vendor!r} names the snmprec writer {name!r}, "
                          f"which simulator/snmprec.py's OLT_WRITERS does not have") from None


def olt_records(olt: Olt, *, moving_counters: bool = True) -> list[Record]:
    """Every record of one OLT's agent, sorted as snmpsim needs them."""
    write = olt_writer(olt.vendor)
    recs: list[Record] = list(_system(olt, moving_counters))
    recs.extend(_interfaces(list(olt.interfaces()), moving_counters))
    for p in olt.pon_ports:
        recs.extend(write(p))
    recs.sort(key=lambda r: r[0])
    return recs


def bwa_records(station: BwaStation, *, moving_counters: bool = True) -> list[Record]:
    """Every record of a BWA station's agent: IF-MIB and the eNB tree (BAICELLS-MIB as the baicells pack
    reads it), sorted."""
    recs: list[Record] = list(_system(station, moving_counters))
    recs.extend(_interfaces(list(station.interfaces()), moving_counters))
    b = BAICELLS
    recs += [
        ((*b, 100, 5, 0), "2", "1" if station.in_service else "0"),
        ((*b, 100, 21, 0), "2", "1" if station.s1_up else "0"),
        ((*b, 270, 1, 1, 0), "2", "1" if station.rf_on else "0"),
    ]
    if station.rrc_success_pct is not None:
        recs.append(((*b, 190, 6, 0), "2", str(station.rrc_success_pct)))
    if station.erab_success_pct is not None:
        recs.append(((*b, 190, 3, 0), "2", str(station.erab_success_pct)))
    for c in station.cells:
        x = (c.index, 0)
        recs += [
            ((*b, 100, 11, *x), "2", str(c.connected_ues)),
            ((*b, 190, 7, *x), "66", str(c.ul_kbps)),
            ((*b, 190, 8, *x), "66", str(c.dl_kbps)),
            ((*b, 190, 9, *x), "2", str(c.ul_prb_pct)),  # ulPrbUtilization
            ((*b, 190, 10, *x), "2", str(c.dl_prb_pct)),  # dlPrbUtilization
        ]
    recs.sort(key=lambda r: r[0])
    return recs


def octet_string_index(text: str) -> tuple[int, ...]:
    """An ``OCTET STRING`` table index as SMIv2 encodes it: the length, then one sub-id per octet."""
    raw = text.encode("utf-8")
    return (len(raw), *raw)


def vpn_records(gateway: VpnGateway, *, moving_counters: bool = True) -> list[Record]:
    """Every record of a VPN gateway's agent: IF-MIB and the vendor's remote-access tree, the sessions being
    ``telework`` variation records (computed from the clock when asked); sorted."""
    recs: list[Record] = list(_system(gateway, moving_counters, location="chiyoda"))
    recs.extend(_interfaces(list(gateway.interfaces()), moving_counters))
    params = f"staff={gateway.staff},share={gateway.telework_share},licence={gateway.licence_sessions}"
    protocols = "/".join(f"{w:g}" for _, w in gateway.protocols)
    part = {name: k for k, (name, _) in enumerate(gateway.protocols)}
    writer = _VPN_WRITERS.get(gateway.vendor)
    if writer is None:
        raise ConfigError(f"the simulator cannot serve a VPN gateway of vendor {gateway.vendor!r}: add its "
                          f"writer to _VPN_WRITERS in simulator/snmprec.py (known: {', '.join(sorted(_VPN_WRITERS))})")
    recs.extend(writer(gateway, params, protocols, part))
    recs.sort(key=lambda r: r[0])
    return recs


def _asa_vpn(gateway: VpnGateway, params: str, protocols: str, part: dict[str, int]) -> Iterator[Record]:
    """CISCO-REMOTE-ACCESS-MONITOR-MIB: the licence, crasNumSessions (remote access and the LAN-to-LAN
    tunnels), the per-kind counters (IPsec .26, SVC .35, WebVPN .38, LAN-to-LAN .29), the per-group users;
    CISCO-IPSEC-FLOW-MONITOR-MIB's tunnel table for the branch offices' site-to-site tunnels."""
    l2l = sum(t.active for t in gateway.tunnels)
    yield (*CRAS, 1, 1, 0), "2", str(gateway.licence_sessions)
    yield (*CRAS, 3, 1, 0), f"66:{TELEWORK_VARIATION}", f"{params},plus={l2l}"
    for kind, column in (("ipsec", 26), ("svc", 35), ("webvpn", 38)):
        yield (*CRAS, 3, column, 0), f"66:{TELEWORK_VARIATION}", f"{params},weights={protocols},part={part[kind]}"
    yield (*CRAS, 3, 29, 0), "66", str(l2l)
    weights = "/".join(f"{w:g}" for _, w in gateway.groups)
    for k, (name, _) in enumerate(gateway.groups):
        yield ((*CRAS, 3, 22, 1, 2, *octet_string_index(name)), f"2:{TELEWORK_VARIATION}",
               f"{params},weights={weights},part={k}")
    # crasSessionTable: one row per remote-access session, indexed by its (simulated) user's name, existing
    # while there are more sessions than its slot: crasSessionDuration (.6), the column the module walks
    for slot in range(_user_rows(gateway)):
        yield ((*CRAS, 3, 21, 1, 6, *octet_string_index(sim_user(gateway, slot)), slot + 1),
               f"66:{TELEWORK_VARIATION}", f"{params},slot={slot},value=600")
    for t in gateway.tunnels:
        yield (*CIPSEC_TUNNEL, 3, t.index), "2", "1"  # cipSecTunIkeTunnelAlive: true
        yield (*CIPSEC_TUNNEL, 51, t.index), "2", "1" if t.active else "2"


def _fortigate_vpn(gateway: VpnGateway, params: str, protocols: str, part: dict[str, int]) -> Iterator[Record]:
    """FORTINET-FORTIGATE-MIB, VDOM root (1): SSL-VPN users (fgVpnSslStatsLoginUsers) and one
    fgVpnDialupTable row per dial-up IPsec peer (only the VDOM column, fgVpnDialupVdom: the peers' addresses
    are not simulated), rows that come and go with the working day."""
    yield (*FG_VPN, 2, 3, 1, 1, 1), "2", "2"  # fgVpnSslState: enabled(2)
    yield (*FG_VPN, 2, 3, 1, 2, 1), f"66:{TELEWORK_VARIATION}", f"{params},weights={protocols},part={part['ssl']}"
    for slot in range(_most_sessions(gateway)):
        yield ((*FG_VPN, 2, 1, 1, 8, slot + 1), f"2:{TELEWORK_VARIATION}",
               f"{params},weights={protocols},part={part['ipsec']},slot={slot},value=1")
    # fgVpnSslTunnelTable: one row per SSL-VPN tunnel with its (simulated) user's name (fgVpnSslTunnelUserName)
    for slot in range(_user_rows(gateway)):
        yield ((*FG_VPN, 2, 4, 1, 3, slot + 1), f"4:{TELEWORK_VARIATION}",
               f"{params},weights={protocols},part={part['ssl']},slot={slot},text={sim_user(gateway, slot)}")


def _most_sessions(gateway: VpnGateway) -> int:
    """Rows a per-session table needs at most: the curve's peak (ripple included), within the licence."""
    most = math.ceil(gateway.staff * gateway.telework_share * 1.05) + 1
    return min(most, gateway.licence_sessions)


#: Session rows with a user name the simulator lists at most per gateway. An agent walks past every row that
#: does not exist at the moment (one variation call each, the whole table in the evening): with a row per
#: possible session the shared small-device agent answered the demo's first poll of the ASA too late under
#: load. So the simulated gateways name the users of their first 24 sessions only (``ftth_vpn_users`` ≤ 24).
USER_ROWS_MAX = 24


def _user_rows(gateway: VpnGateway) -> int:
    return min(_most_sessions(gateway), USER_ROWS_MAX)


def sim_user(gateway: VpnGateway, slot: int) -> str:
    """The simulated user name of a gateway's session slot (``staff007``; a slot is one member of staff)."""
    return f"staff{slot:03d}"


#: the writers of a VPN gateway's remote-access tree, by its vendor (the inventory's value)
_VPN_WRITERS: dict[str, Callable[[VpnGateway, str, str, dict[str, int]], Iterator[Record]]] = {
    "cisco_asa": _asa_vpn, "fortigate": _fortigate_vpn,
}


def router_records(router: SchoolRouter, *, moving_counters: bool = True) -> list[Record]:
    """Every record of a school router's agent: the system group, IF-MIB (LAN1, LAN2) and the ARP table,
    sorted."""
    recs: list[Record] = list(_system(router, moving_counters))
    recs.extend(_interfaces(list(router.interfaces()), moving_counters))
    for a in router.arp:
        x = (a.if_index, *(int(b) for b in a.ip.split(".")))
        recs.append(((*IP_NET_TO_MEDIA, 1, *x), "2", str(a.if_index)))
        recs.append(((*IP_NET_TO_MEDIA, 2, *x), "4x", a.mac.replace(":", "")))
        recs.append(((*IP_NET_TO_MEDIA, 3, *x), "64", a.ip))
        recs.append(((*IP_NET_TO_MEDIA, 4, *x), "2", "3"))  # dynamic
    recs.sort(key=lambda r: r[0])
    return recs


def render(records: Iterable[Record]) -> str:
    return "".join(f"{'.'.join(map(str, oid))}|{tag}|{value}\n" for oid, tag, value in records)


def parse(text: str) -> list[Record]:
    """Read a ``.snmprec`` back (for tests and tools); raises ``ValueError`` on a malformed line."""
    out: list[Record] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("|", 2)
        if len(parts) != 3 or not parts[0] or not parts[1]:
            raise ValueError(f"line {n}: not OID|TAG|VALUE: {line!r}")
        try:
            oid = tuple(int(x) for x in parts[0].split("."))
        except ValueError as exc:
            raise ValueError(f"line {n}: bad OID {parts[0]!r}") from exc
        out.append((oid, parts[1], parts[2]))
    return out


def write_if_changed(path: Path, text: str) -> bool:
    """Write only when the content differs: an unchanged file keeps its mtime, so snmpsim reuses the
    index it built last time in the same cache directory (that index is most of the start-up time)."""
    data = text.encode("iso-8859-1")
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


#: snmpsim maps ``self.snmprec`` to the empty SNMPv3 context name (see ``agents``): real OLTs answer v3
#: requests without a context, and so must the simulated ones.
EMPTY_CONTEXT_FILE = "self.snmprec"


def write_olt(
    olt: Olt,
    directory: Path,
    *,
    community: str = "public",
    empty_context: bool = True,
    moving_counters: bool = True,
) -> Path:
    """Write ``directory/COMMUNITY.snmprec`` (and ``self.snmprec`` for v3 without a context)."""
    return write_device(olt, directory, community=community, empty_context=empty_context,
                        moving_counters=moving_counters)


def device_records(device: Device, *, moving_counters: bool = True) -> list[Record]:
    if isinstance(device, Olt):
        return olt_records(device, moving_counters=moving_counters)
    if isinstance(device, BwaStation):
        return bwa_records(device, moving_counters=moving_counters)
    if isinstance(device, SchoolRouter):
        return router_records(device, moving_counters=moving_counters)
    return vpn_records(device, moving_counters=moving_counters)


def write_device(
    device: Device,
    directory: Path,
    *,
    community: str = "public",
    empty_context: bool = True,
    moving_counters: bool = True,
) -> Path:
    """Write any device's ``directory/COMMUNITY.snmprec`` (and ``self.snmprec``, as ``write_olt``)."""
    directory.mkdir(parents=True, exist_ok=True)
    text = render(device_records(device, moving_counters=moving_counters))
    main = directory / f"{community}.snmprec"
    write_if_changed(main, text)
    extra = directory / EMPTY_CONTEXT_FILE
    if empty_context:
        write_if_changed(extra, text)
    elif extra.exists():
        extra.unlink()
    return main


def write_town(
    town: Town, directory: Path, *, empty_context: bool = True, moving_counters: bool = True
) -> dict[str, Path]:
    """One sub-directory per device (each agent gets its own data directory); returns name -> dir."""
    out: dict[str, Path] = {}
    for device in town.devices():
        d = directory / device.name
        write_device(
            device, d, community=town.community, empty_context=empty_context, moving_counters=moving_counters
        )
        out[device.name] = d
    return out
