"""The few things about device families that data cannot say: index arithmetic and roll-ups.

Modules name these functions; adding a family means adding YAML and, only if it must, a function here.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from ftthnoc import causes
from ftthnoc.samples import PRIVATE_PREFIX, MetricFamily

HUAWEI_GPON_BASE = 4194304000  # ifIndex of GPON 0/0/0 on MA5600T/MA5800 (above 2^31)
ZTE_GPON_BASE = 0x10000000  # ponIndex 0x10010100 is gpon-olt_1/1/1 on C300/C320 (V1 tree)
#: the V2 tree's (1.3.6.1.4.1.3902.1082.500) PON index: 0x1101SSPP, gpon-olt_1/1/1 = 285278465
#: (Cepat-Kilat-Teknologi/go-snmp-olt-zte-c320 config/cfg.yaml; switcher-core's C600 encoder)
ZTE_V2_GPON_BASE = 0x11010000


def huawei_gpon_fsp(ifindex: int) -> str:
    """Frame/slot/port from a Huawei GPON port ifIndex: base + F·2^19 + S·8192 + P·256."""
    x = ifindex - HUAWEI_GPON_BASE
    if x < 0 or x & 0xFF:
        return str(ifindex)
    return f"{x >> 19}/{(x >> 13) & 0x3F}/{(x >> 8) & 0x1F}"


def zte_gpon_port(pon_index: int) -> str:
    """Rack/slot/port from a ZTE ponIndex: 0x10000000 + slot·65536 + port·256 (rack is always 1)."""
    x = pon_index - ZTE_GPON_BASE
    if x < 0 or x >> 24 or x & 0xFF:
        return str(pon_index)
    return f"1/{(x >> 16) & 0xFF}/{(x >> 8) & 0xFF}"


def zte_v2_gpon_port(pon_index: int) -> str:
    """Rack/slot/port from a ZTE V2-tree PON index: 0x11010000 + slot·256 + port (rack is always 1)."""
    x = pon_index - ZTE_V2_GPON_BASE
    if x < 0 or x >> 16 or not x & 0xFF:
        return str(pon_index)
    return f"1/{(x >> 8) & 0xFF}/{x & 0xFF}"


INDEX_QUIRKS: dict[str, Callable[[int], str]] = {
    "huawei_gpon_fsp": huawei_gpon_fsp,
    "zte_gpon_port": zte_gpon_port,
    "zte_v2_gpon_port": zte_v2_gpon_port,
}


def huawei_gpon_ifindex(fsp: str) -> int:
    """The inverse of ``huawei_gpon_fsp``: ``0/1/3`` → its ifIndex. Raises ValueError."""
    frame, slot, port = (int(x) for x in fsp.split("/"))
    return HUAWEI_GPON_BASE + (frame << 19) + (slot << 13) + (port << 8)


def zte_gpon_pon_index(port_name: str) -> int:
    """The inverse of ``zte_gpon_port``: ``1/1/1`` → 0x10010100. Raises ValueError."""
    _rack, slot, port = (int(x) for x in port_name.split("/"))
    return ZTE_GPON_BASE + (slot << 16) + (port << 8)


def zte_v2_gpon_pon_index(port_name: str) -> int:
    """The inverse of ``zte_v2_gpon_port``: ``1/1/1`` → 0x11010101. Raises ValueError."""
    _rack, slot, port = (int(x) for x in port_name.split("/"))
    if not (0 <= slot <= 0xFF and 1 <= port <= 0xFF):
        raise ValueError(f"{port_name!r} is not a ZTE V2 PON port")
    return ZTE_V2_GPON_BASE + (slot << 8) + port


#: label value → sub-identifier, for asking one instance by GET (provisioning's check of one new ONU)
INDEX_INVERSES: dict[str, Callable[[str], int]] = {
    "huawei_gpon_fsp": huawei_gpon_ifindex,
    "zte_gpon_port": zte_gpon_pon_index,
    "zte_v2_gpon_port": zte_v2_gpon_pon_index,
}


def _text_of(subids: Sequence[int]) -> str | None:
    """Sub-identifiers that are octets, as text (UTF-8; what an SNMP manager shows for a name)."""
    if any(not 0 <= x <= 255 for x in subids):
        return None
    return bytes(subids).decode("utf-8", "replace")


def octet_string(subids: Sequence[int]) -> tuple[str, int] | None:
    """A string index as SMIv2 encodes a non-IMPLIED ``OCTET STRING``: its length, then one sub-id per
    octet (``6.119.101.98.118.112.110`` is "webvpn"). Returns the text and the sub-ids it used, or None
    when the sub-ids cannot be such a string (a length past the end, a "byte" above 255)."""
    if not subids or subids[0] > len(subids) - 1:
        return None
    n = subids[0]
    text = _text_of(subids[1 : 1 + n])
    return None if text is None else (text, 1 + n)


def implied_octet_string(subids: Sequence[int]) -> tuple[str, int] | None:
    """An ``IMPLIED`` string index: every remaining sub-id is an octet, no length first."""
    text = _text_of(subids)
    return None if text is None or not subids else (text, len(subids))


def dotted(subids: Sequence[int]) -> tuple[str, int] | None:
    """Every remaining sub-id, dotted ("5" or "5.1"): for a table whose index grew a column between
    firmware versions (FortiOS added the phase-2 index to fgVpnTunTable in 2021)."""
    return (".".join(map(str, subids)), len(subids)) if subids else None


def baicells_cell(subids: Sequence[int]) -> tuple[str, int] | None:
    """A Baicells eNB per-cell instance: the cell (1 the first carrier, 2 the second), then ``.0``
    (``ueConnections`` cell 1 is ``.100.11.1.0``, cell 2 ``.100.11.2.0``; see the baicells pack's README).
    Anything else (a bare ``.0``, a third sub-id) is not such an instance: the row is skipped, never guessed."""
    if len(subids) < 2 or subids[1] != 0 or subids[0] < 1:
        return None
    return str(subids[0]), 2


def ipv4_address(subids: Sequence[int]) -> tuple[str, int] | None:
    """An ``IpAddress`` index part: four sub-ids, each an octet (``10.96.0.17``), as in the ARP table
    ``ipNetToMediaTable`` (index ``ifIndex.a.b.c.d``)."""
    if len(subids) < 4 or any(not 0 <= x <= 255 for x in subids[:4]):
        return None
    return ".".join(map(str, subids[:4])), 4


#: Index parts that use a variable number of sub-ids: given the sub-ids left, the label and how many
#: sub-ids it took, or None for a malformed index (the row is skipped and counted, never guessed).
VARIABLE_INDEX_QUIRKS: dict[str, Callable[[Sequence[int]], tuple[str, int] | None]] = {
    "octet_string": octet_string,
    "implied_octet_string": implied_octet_string,
    "dotted": dotted,
    "ipv4_address": ipv4_address,
    "baicells_cell": baicells_cell,
}

#: the ``cause`` buckets of ``ftth_pon_port_onus_down``: the first three are faults (``ftthnoc.causes``)
DOWN_BUCKETS = causes.CLASSES


def down_bucket(cause: str) -> str:
    """The roll-up bucket of a last-down cause label: dying_gasp, los, other or deliberate."""
    return causes.class_of(cause)


def pon_rollup(families: list[MetricFamily], instances: Mapping[str, list[dict[str, str]]]) -> list[MetricFamily]:
    """Per PON port: ONUs known, up and down, and down ONUs by cause: dying gasp, LOS and other faults,
    and ``deliberate`` (taken down on purpose, ``ftthnoc.causes.DELIBERATE``: down, but not for a fault).

    Computed from the module's own per-ONU families and the ``onu`` instances the agent listed, so
    that every GPON family reports the same port metrics whatever its vendor tree looks like.
    """
    known = MetricFamily("ftth_pon_port_onus_known", "ONUs the OLT lists on the PON port (in any "
                         "per-ONU column, whatever their state).")
    per_port: Counter[tuple[tuple[str, str], ...]] = Counter(
        tuple((k, v) for k, v in lab.items() if k != "onu_id") for lab in instances.get("onu", ())
    )
    for port_key, n in per_port.items():
        known.add(dict(port_key), n)
    families = [*families, known]
    by_name = {f.name: f for f in families}
    up = by_name.get("ftth_onu_up")
    if up is None:
        return families
    causes: dict[tuple[str, str], str] = {}
    cause_fam = by_name.get("ftth_onu_last_down_cause")
    if cause_fam is not None:
        for s in cause_fam.samples:
            causes[(s.labels.get("pon_port", ""), s.labels.get("onu_id", ""))] = s.labels.get("cause", "")
    state: Counter[tuple[tuple[tuple[str, str], ...], str]] = Counter()
    down: Counter[tuple[tuple[tuple[str, str], ...], str]] = Counter()
    ports: dict[tuple[tuple[str, str], ...], None] = {}
    for s in up.samples:
        port_key = tuple((k, v) for k, v in s.labels.items() if k != "onu_id")
        ports.setdefault(port_key)
        if s.value >= 1:
            state[(port_key, "up")] += 1
            continue
        state[(port_key, "down")] += 1
        cause = causes.get((s.labels.get("pon_port", ""), s.labels.get("onu_id", "")), "")
        down[(port_key, down_bucket(cause))] += 1
    onus = MetricFamily("ftth_pon_port_onus", "ONUs on the PON port by current state (up, down).")
    down_fam = MetricFamily(
        "ftth_pon_port_onus_down", "Down ONUs on the PON port by last down cause: dying_gasp, los, other "
        "(faults) and deliberate (deactivated, reset or shut down on purpose)."
    )
    for port_key in ports:
        for st in ("up", "down"):
            onus.add({**dict(port_key), "state": st}, state[(port_key, st)])
        for bucket in DOWN_BUCKETS:
            down_fam.add({**dict(port_key), "cause": bucket}, down[(port_key, bucket)])
    return [*families, onus, down_fam]


#: a per-row family a VPN module names only so that ``vpn_remote_access`` can count the rows of a table of
#: remote-access peers (one row per connected user, indexes that churn): consumed, never exported
DIALUP_ROWS = "vpn_dialup_peer_rows"


def vpn_remote_access(
    families: list[MetricFamily], instances: Mapping[str, list[dict[str, str]]]
) -> list[MetricFamily]:
    """``ftth_vpn_sessions`` per gateway = its remote-access sessions: the sum of
    ``ftth_vpn_remote_access_sessions`` over the protocols the module reads (ASA: IPsec, SVC, WebVPN;
    FortiGate: SSL-VPN users and dial-up IPsec peers), never LAN-to-LAN tunnels.

    Dial-up peers are counted from the ``DIALUP_ROWS`` family (one sample per row; its ``table`` label names
    the table when a device has two listing the same peers, e.g. FortiOS's fgVpnDialupTable and the newer
    fgVpn2DialupTable: the larger count is taken, never the sum). A device that speaks the module's MIB
    (any VPN family has a sample) with no dial-up row has 0 dial-up peers; a device that answered nothing
    gets no number at all. No protocol answered: no ``ftth_vpn_sessions``.
    """
    by_name = {f.name: f for f in families}
    rows = by_name.get(DIALUP_ROWS)
    per_protocol = by_name.get("ftth_vpn_remote_access_sessions")
    out = [f for f in families if f.name not in (DIALUP_ROWS, "ftth_vpn_remote_access_sessions")]
    protocol = MetricFamily("ftth_vpn_remote_access_sessions", per_protocol.documentation if per_protocol else
                            "Remote-access VPN sessions by protocol.")
    for s in per_protocol.samples if per_protocol else ():
        protocol.add(s.labels, s.value)
    if rows is not None:
        counts: Counter[tuple[tuple[tuple[str, str], ...], str]] = Counter()
        for s in rows.samples:
            key = tuple(sorted((k, v) for k, v in s.labels.items() if k not in ("dialup_peer", "table")))
            counts[(key, s.labels.get("table", ""))] += 1
        dialup: dict[tuple[tuple[str, str], ...], int] = {}
        for (key, _table), n in counts.items():
            dialup[key] = max(dialup.get(key, 0), n)
        speaks = [f for f in families if f.name.startswith("ftth_vpn_") and f.samples]
        for f in speaks:
            for s in f.samples:
                dialup.setdefault(tuple(sorted((k, v) for k, v in s.labels.items()
                                               if k not in ("protocol", "group"))), 0)
        for key, n in sorted(dialup.items()):
            protocol.add({**dict(key), "protocol": "ipsec"}, n)
    sessions = MetricFamily("ftth_vpn_sessions", "Active remote-access VPN sessions: the sum over protocols of "
                            "ftth_vpn_remote_access_sessions (LAN-to-LAN tunnels are not remote access).")
    totals: dict[tuple[tuple[str, str], ...], float] = {}
    for s in protocol.samples:
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "protocol"))
        totals[key] = totals.get(key, 0.0) + s.value
    for key, total in totals.items():
        sessions.add(dict(key), total)
    return [*out, protocol, sessions]


def vpn_capacity(families: list[MetricFamily], instances: Mapping[str, list[dict[str, str]]]) -> list[MetricFamily]:
    """``ftth_vpn_sessions_capacity_ratio`` = sessions / the device's session limit, per gateway.

    Absent where the limit is unknown or 0 (CISCO-REMOTE-ACCESS-MONITOR-MIB: 0 means "no limit"): a
    ratio against no limit would be a number that means nothing, and the capacity alert must not fire on it.
    """
    by_name = {f.name: f for f in families}
    sessions, limit = by_name.get("ftth_vpn_sessions"), by_name.get("ftth_vpn_sessions_max")
    ratio = MetricFamily("ftth_vpn_sessions_capacity_ratio", "Active remote-access sessions as a share of the "
                         "gateway's session limit (1 = no further staff can connect).")
    if sessions is not None and limit is not None:
        limits = {tuple(sorted(s.labels.items())): s.value for s in limit.samples}
        for s in sessions.samples:
            most = limits.get(tuple(sorted(s.labels.items())))
            if most:  # None (unknown) or 0 (no limit): no ratio
                ratio.add(s.labels, s.value / most)
    return [*families, ratio]


#: a per-row family a VPN module names so that ``vpn_users`` can count distinct users: one sample per remote-access
#: session with the user's name in the ``user`` label. Consumed by the quirk, never exported.
USER_ROWS = "vpn_user_rows"
#: the private family ``vpn_users`` leaves for the telework KPI: one sample per distinct user (label ``user``,
#: plus the gateway's labels). ``collectors.snmp.poll`` keeps it out of every public result.
USER_NAMES = f"{PRIVATE_PREFIX}vpn_users"


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def vpn_users(families: list[MetricFamily], instances: Mapping[str, list[dict[str, str]]]) -> list[MetricFamily]:
    """``ftth_vpn_users`` per gateway = distinct user names among the remote-access sessions (a count only),
    and the names themselves in the private ``USER_NAMES`` family for the telework KPI's distinct users per day.

    Names are compared case-folded and stripped (``Tanaka`` and ``tanaka `` are one person, as the gateways'
    AAA usually treats them). A name that is an IP address is a LAN-to-LAN peer (an ASA names a site-to-site
    session after its peer), not a member of staff: left out (*unverified* on a walk with both). Without
    session rows, a gateway that reports 0 ``ftth_vpn_sessions`` has 0 users; one that reports sessions but
    no rows (the table not readable with this view) has no user count rather than a false 0.
    """
    by_name = {f.name: f for f in families}
    rows = by_name.get(USER_ROWS)
    out = [f for f in families if f.name != USER_ROWS]
    users = MetricFamily("ftth_vpn_users", "Distinct users among the active remote-access sessions (a count: "
                         "names are never exported).")
    private = MetricFamily(USER_NAMES, "Distinct remote-access users (private: for the telework KPI only).")
    per_gateway: dict[tuple[tuple[str, str], ...], set[str]] = {}
    for s in rows.samples if rows else ():
        name = s.labels.get("user", "").strip().casefold()
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k not in ("user", "session", "ssl_tunnel", "vdom")))
        names = per_gateway.setdefault(key, set())
        if name and not _is_address(name):
            names.add(name)
    sessions = by_name.get("ftth_vpn_sessions")
    for s in sessions.samples if sessions else ():
        key = tuple(sorted(s.labels.items()))
        if key not in per_gateway and s.value == 0:
            per_gateway[key] = set()
    for key, names in sorted(per_gateway.items()):
        users.add(dict(key), float(len(names)))
        private.add(dict(key), 0.0)  # without ``user``: this gateway's list is complete (possibly empty)
        for name in sorted(names):
            private.add({**dict(key), "user": name}, 1.0)
    return [*out, users, private]


Postprocess = Callable[[list[MetricFamily], Mapping[str, list[dict[str, str]]]], list[MetricFamily]]
POSTPROCESS: dict[str, Postprocess] = {
    "pon_rollup": pon_rollup,
    "vpn_remote_access": vpn_remote_access,
    "vpn_capacity": vpn_capacity,
    "vpn_users": vpn_users,
}
