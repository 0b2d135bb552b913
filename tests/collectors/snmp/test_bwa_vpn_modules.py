"""The BWA and VPN modules: decoding rules they added (string indexes, sums, constant labels, numbers as
text) and the modules against walks recorded from real devices by LibreNMS.

The walks live in ``../shared/peer-data/librenms/`` (skipped when absent) and are served by snmpsim on
loopback. Expected values are read at test time from the recorded ``.snmprec`` (parsed here, with its
own small decoding, not the module's) and from LibreNMS's JSON, never copied in here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collectors.snmp import ber, quirks
from collectors.snmp.ber import VarBind, parse_oid
from collectors.snmp.client import Device, SnmpClient
from collectors.snmp.decode import decode_module
from collectors.snmp.module import get_module, parse_module
from collectors.snmp.poll import ModuleResult, poll_module
from ftthnoc.config import Auth
from ftthnoc.errors import ModuleError
from ftthnoc.samples import MetricFamily
from simulator.agents import ServedWalk, serve_walk

PEER = Path(__file__).resolve().parents[3].parent / "shared" / "peer-data" / "librenms"
IF_STATUS = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent", 7: "lowerLayerDown"}
CRAS = "1.3.6.1.4.1.9.9.392.1"
CIPSEC_STATUS = "1.3.6.1.4.1.9.9.171.1.3.2.1.51"


def col(oid: str, rows: dict[tuple[int, ...], object], tag: int = ber.INTEGER) -> tuple[tuple[int, ...], list[VarBind]]:
    root = parse_oid(oid)
    return root, [VarBind(root + idx, tag, v) for idx, v in rows.items()]  # type: ignore[arg-type]


def by_name(fams: list[MetricFamily]) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    return {f.name: {tuple(sorted(s.labels.items())): s.value for s in f.samples} for f in fams}


def chars(text: str) -> tuple[int, ...]:
    raw = text.encode()
    return (len(raw), *raw)


# --------------------------------------------------------------------------- the string-index quirk
def test_octet_string_index_is_length_then_octets() -> None:
    assert quirks.octet_string((6, 119, 101, 98, 118, 112, 110)) == ("webvpn", 7)
    assert quirks.octet_string((6, 119, 101, 98, 118, 112, 110, 3)) == ("webvpn", 7)  # leaves the rest
    assert quirks.octet_string((0,)) == ("", 1)
    assert quirks.octet_string((6, 119, 101)) is None  # a length past the end
    assert quirks.octet_string((2, 300, 65)) is None  # not an octet
    assert quirks.octet_string(()) is None
    assert quirks.octet_string((*chars("テレワーク"),)) == ("テレワーク", 16)  # UTF-8, as SnmpAdminString


def test_baicells_cell_is_the_cell_then_0() -> None:
    assert quirks.baicells_cell((1, 0)) == ("1", 2)  # ueConnections cell 1: .100.11.1.0
    assert quirks.baicells_cell((2, 0)) == ("2", 2)  # cell 2: .100.11.2.0
    assert quirks.baicells_cell((0,)) is None  # a scalar is not a cell
    assert quirks.baicells_cell((1, 1)) is None and quirks.baicells_cell((0, 0)) is None


def test_an_enb_reads_per_cell_columns_at_cell_dot_0_and_rejects_the_old_layout() -> None:
    enb = "1.3.6.1.4.1.53058"
    columns = dict([col(f"{enb}.100.11", {(1, 0): 23, (2, 0): 7, (3,): 9}),  # (3,): no trailing .0
                    col(f"{enb}.190.9", {(1, 0): 12}), col(f"{enb}.190.10", {(1, 0): 57}),
                    col(f"{enb}.100.5", {(0,): 1})])
    fams, rejected = decode_module(get_module("bwa_enb"), columns, "bs1")
    got = by_name(fams)
    assert got["ftth_bwa_connected_ues"] == {(("cell", "1"), ("station", "bs1")): 23,
                                             (("cell", "2"), ("station", "bs1")): 7}
    assert got["ftth_bwa_uplink_prb_utilisation_ratio"] == {(("cell", "1"), ("station", "bs1")): 0.12}
    assert got["ftth_bwa_downlink_prb_utilisation_ratio"] == {(("cell", "1"), ("station", "bs1")): pytest.approx(0.57)}
    assert got["ftth_bwa_cell_up"] == {(("station", "bs1"),): 1}
    assert rejected == 1


def test_implied_and_dotted_take_every_remaining_subid() -> None:
    assert quirks.implied_octet_string((97, 98)) == ("ab", 2)
    assert quirks.implied_octet_string(()) is None
    assert quirks.dotted((5, 1)) == ("5.1", 2)
    assert quirks.dotted((5,)) == ("5", 1)


STRING_MODULE = """
name: s
description: d
target_label: gateway
indexes:
  group: [{labelname: group, quirk: octet_string}]
  group_port: [{labelname: group, quirk: octet_string}, {labelname: port}]
metrics:
  - {name: g, oid: 1.3.6.1.4.1.9.9.392.1.3.22.1.2, index: group, help: h}
  - {name: gp, oid: 1.3.6.1.4.1.9.9.392.1.3.99.1.2, index: group_port, help: h}
"""


def test_decode_labels_rows_by_their_string_index_and_skips_malformed_ones() -> None:
    module = parse_module(STRING_MODULE, "s.yaml")
    columns = dict([
        col(f"{CRAS}.3.22.1.2", {chars("webvpn"): 3, chars("DefaultRAGroup"): 0,
                                   (6, 119, 101): 9,                    # length past the end
                                   (*chars("ab"), 7): 9,                # a sub-id left over
                                   (2, 256, 65): 9}),                   # not an octet
        col(f"{CRAS}.3.99.1.2", {(*chars("it-admin"), 4): 2, chars("x"): 9}),  # second: no port part
    ])
    fams, rejected = decode_module(module, columns, "asa1")
    got = by_name(fams)
    assert got["g"] == {(("gateway", "asa1"), ("group", "webvpn")): 3,
                        (("gateway", "asa1"), ("group", "DefaultRAGroup")): 0}
    assert got["gp"] == {(("gateway", "asa1"), ("group", "it-admin"), ("port", "4")): 2}
    assert rejected == 4


def test_an_unknown_variable_quirk_is_refused() -> None:
    text = STRING_MODULE.replace("quirk: octet_string}]\n  group_port", "quirk: nope}]\n  group_port")
    with pytest.raises(ModuleError, match="unknown quirk 'nope'"):
        parse_module(text, "s.yaml")


# --------------------------------------------------------------------------- sums, constant labels, text
SUM_MODULE = """
name: t
description: d
target_label: gateway
indexes: {scalar: [], tunnel: [{labelname: tunnel, quirk: dotted}]}
metrics:
  - {name: sessions, oid: 1.3.6.1.4.1.99.1, index: scalar, help: h}
  - {name: tunnels, oid: 1.3.6.1.4.1.99.2, index: tunnel, map: {1: 1, 2: 0}, aggregate: sum, help: h}
"""


def test_an_aggregated_column_is_one_sample_per_device() -> None:
    module = parse_module(SUM_MODULE, "t.yaml")
    rows = {(7,): 1, (8, 1): 1, (9, 2): 2, (10,): 5}  # firmware with and without a phase-2 index; 5: unknown
    fams, rejected = decode_module(module, dict([col("1.3.6.1.4.1.99.1", {(0,): 4}),
                                                 col("1.3.6.1.4.1.99.2", rows)]), "gw")
    assert by_name(fams)["tunnels"] == {(("gateway", "gw"),): 2}
    assert rejected == 1


def test_an_aggregate_of_no_rows_is_0_only_on_a_device_that_speaks_the_mib() -> None:
    module = parse_module(SUM_MODULE, "t.yaml")
    speaks = decode_module(module, dict([col("1.3.6.1.4.1.99.1", {(0,): 4})]), "gw")[0]
    assert by_name(speaks)["tunnels"] == {(("gateway", "gw"),): 0}  # the table is empty: no tunnel is up
    assert by_name(decode_module(module, {}, "gw")[0])["tunnels"] == {}  # the MIB is absent: no number
    unreadable = decode_module(module, dict([col("1.3.6.1.4.1.99.2", {(1,): 5})]), "gw")[0]
    assert by_name(unreadable)["tunnels"] == {}  # rows, none readable: no reading, not 0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (SUM_MODULE.replace("index: tunnel, map", "index: tunnel, type: counter, map"), "only a gauge"),
        (SUM_MODULE.replace("name: tunnels", "name: sessions").replace("aggregate: sum, ", "type: info, label: x, "),
         "two types"),
    ],
)
def test_bad_aggregates_and_name_clashes_are_refused(text: str, reason: str) -> None:
    with pytest.raises(ModuleError, match=reason):
        parse_module(text, "t.yaml")


def test_cpe_text_values_constant_labels_and_hms_durations() -> None:
    cpe = "1.3.6.1.4.1.53058.2"
    s = ber.OCTET_STRING
    columns = dict([
        col(f"{cpe}.2.7", {(0,): b"-85"}, s), col(f"{cpe}.2.8", {(0,): b"-91.5"}, s),
        col(f"{cpe}.2.9", {(0,): b"-"}, s), col(f"{cpe}.2.10", {(0,): b"65535"}, s),
        col(f"{cpe}.3.5", {(0,): b"26:01:02"}, s), col(f"{cpe}.3.12", {(0,): b" 1200 "}, s),
        col(f"{cpe}.3.15", {(0,): b"abc"}, s),
    ])
    fams, rejected = decode_module(get_module("bwa_cpe"), columns, "cpe1")
    got = by_name(fams)
    assert [f.name for f in fams].count("ftth_bwa_cpe_rsrp_dbm") == 1  # two columns, one family
    assert got["ftth_bwa_cpe_rsrp_dbm"] == {(("antenna", "0"), ("cpe", "cpe1")): -85.0,
                                            (("antenna", "1"), ("cpe", "cpe1")): -91.5}
    assert got["ftth_bwa_cpe_connection_duration_seconds"] == {(("cpe", "cpe1"),): 26 * 3600 + 62}
    assert got["ftth_bwa_cpe_downlink_bytes_per_second"] == {(("cpe", "cpe1"),): 150.0}  # 1200 bit/s
    for absent in ("ftth_bwa_cpe_rsrq_db", "ftth_bwa_cpe_sinr_db", "ftth_bwa_cpe_uplink_bytes_per_second"):
        assert got[absent] == {}, absent
    assert rejected == 3  # "-", 65535 dB outside the valid range, "abc"


Column = tuple[tuple[int, ...], list[VarBind]]


def asa_sessions(ipsec: int, svc: int, webvpn: int, total: int | None = None) -> list[Column]:
    """The ASA's per-kind session scalars (and crasNumSessions when given), as an agent answers them."""
    cols = [col(f"{CRAS}.3.{n}", {(0,): v}, ber.GAUGE32) for n, v in ((26, ipsec), (35, svc), (38, webvpn))]
    return cols if total is None else [*cols, col(f"{CRAS}.3.1", {(0,): total}, ber.GAUGE32)]


def test_asa_sessions_are_remote_access_only_lan_to_lan_stays_in_all_sessions() -> None:
    asa = get_module("cisco_asa_vpn")
    # 40 AnyConnect, 4 IPsec client, 1 clientless; 3 branch-office LAN-to-LAN tunnels on top in crasNumSessions
    got = by_name(decode_module(asa, dict([*asa_sessions(4, 40, 1, total=48),
                                           col(f"{CRAS}.3.29", {(0,): 3}, ber.GAUGE32)]), "gw")[0])
    assert got["ftth_vpn_sessions"] == {(("gateway", "gw"),): 45}
    assert got["ftth_vpn_all_sessions"] == {(("gateway", "gw"),): 48}
    assert got["ftth_vpn_remote_access_sessions"] == {(("gateway", "gw"), ("protocol", "ipsec")): 4,
                                                       (("gateway", "gw"), ("protocol", "svc")): 40,
                                                       (("gateway", "gw"), ("protocol", "webvpn")): 1}
    # an ASA that answers none of the per-kind counters has no remote-access figure, not 0
    older = by_name(decode_module(asa, dict([col(f"{CRAS}.3.1", {(0,): 48}, ber.GAUGE32)]), "gw")[0])
    assert older["ftth_vpn_sessions"] == {} and older["ftth_vpn_all_sessions"] == {(("gateway", "gw"),): 48}


def test_capacity_ratio_needs_a_known_nonzero_limit() -> None:
    asa = get_module("cisco_asa_vpn")
    sessions = asa_sessions(5, 40, 0, total=48)
    got = by_name(decode_module(asa, dict([*sessions, col(f"{CRAS}.1.1", {(0,): 100})]), "gw")[0])
    assert got["ftth_vpn_sessions_capacity_ratio"] == {(("gateway", "gw"),): 0.45}  # remote access / limit
    full = asa_sessions(0, 100, 0)  # at the licence limit: the alert's threshold
    at_limit = by_name(decode_module(asa, dict([*full, col(f"{CRAS}.1.1", {(0,): 100})]), "gw")[0])
    assert at_limit["ftth_vpn_sessions_capacity_ratio"] == {(("gateway", "gw"),): 1.0}
    no_limit = by_name(decode_module(asa, dict([*sessions, col(f"{CRAS}.1.1", {(0,): 0})]), "gw")[0])
    assert no_limit["ftth_vpn_sessions_max"] == no_limit["ftth_vpn_sessions_capacity_ratio"] == {}
    assert by_name(decode_module(asa, dict(sessions), "gw")[0])["ftth_vpn_sessions_capacity_ratio"] == {}


FGVPN = "1.3.6.1.4.1.12356.101.12"


def test_fortigate_counts_dial_up_ipsec_peers_with_the_ssl_vpn_users() -> None:
    fg = get_module("fortigate_vpn")
    ssl = col(f"{FGVPN}.2.3.1.2", {(1,): 20, (3,): 2}, ber.GAUGE32)  # users in VDOMs root(1) and 3
    dialup = col(f"{FGVPN}.2.1.1.8", {(i,): 1 for i in (4, 9, 17, 23, 31)})  # five FortiClient IPsec peers
    fams, rejected = decode_module(fg, dict([ssl, dialup]), "fg1")
    got = by_name(fams)
    assert got["ftth_vpn_remote_access_sessions"] == {(("gateway", "fg1"), ("protocol", "ssl")): 22,
                                                       (("gateway", "fg1"), ("protocol", "ipsec")): 5}
    assert got["ftth_vpn_sessions"] == {(("gateway", "fg1"),): 27}
    assert "vpn_dialup_peer_rows" not in got  # the rows are counted, never exported (indexes churn)
    assert got["ftth_vpn_ipsec_tunnels"] == {(("gateway", "fg1"),): 0}  # no site-to-site tunnel row
    assert rejected == 0


def test_fortigate_takes_the_larger_dial_up_table_never_their_sum() -> None:
    fg = get_module("fortigate_vpn")
    v1 = col(f"{FGVPN}.2.1.1.8", {(1,): 1, (2,): 1})  # the IPv4 peers
    v2 = col(f"{FGVPN}.4.1.1.17", {(1,): 1, (2,): 1, (3,): 1})  # the same two and an IPv6 one
    got = by_name(decode_module(fg, dict([v1, v2]), "fg1")[0])
    assert got["ftth_vpn_remote_access_sessions"] == {(("gateway", "fg1"), ("protocol", "ipsec")): 3,
                                                       (("gateway", "fg1"), ("protocol", "ssl")): 0}
    assert got["ftth_vpn_sessions"] == {(("gateway", "fg1"),): 3}


def test_fortigate_with_vpn_but_nobody_connected_is_0_and_without_the_mib_nothing() -> None:
    fg = get_module("fortigate_vpn")
    idle = by_name(decode_module(fg, dict([col(f"{FGVPN}.2.3.1.2", {(1,): 0}, ber.GAUGE32)]), "fg1")[0])
    assert idle["ftth_vpn_sessions"] == {(("gateway", "fg1"),): 0}
    assert idle["ftth_vpn_remote_access_sessions"][(("gateway", "fg1"), ("protocol", "ipsec"))] == 0
    assert by_name(decode_module(fg, {}, "fg1")[0])["ftth_vpn_sessions"] == {}


# --------------------------------------------------------------------------- the peer walks
def peer(name: str) -> tuple[Path, dict[str, Any]]:
    walk, expected = PEER / f"{name}.snmprec", PEER / f"{name}.json"
    if not walk.exists() or not expected.exists():
        pytest.skip(f"LibreNMS peer walk {name} not present in {PEER}")
    return walk, json.loads(expected.read_text())


def records(walk: Path) -> dict[tuple[int, ...], tuple[str, str]]:
    """The recorded walk as OID → (tag, value), read straight from the file."""
    out: dict[tuple[int, ...], tuple[str, str]] = {}
    for line in walk.read_text(errors="replace").splitlines():
        oid, tag, value = line.split("|", 2)
        out[parse_oid(oid)] = (tag, value)
    return out


def under(recs: dict[tuple[int, ...], tuple[str, str]], root: str) -> dict[tuple[int, ...], tuple[str, str]]:
    r = parse_oid(root)
    return {oid[len(r):]: v for oid, v in recs.items() if oid[: len(r)] == r and len(oid) > len(r)}


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, tuple[ServedWalk, Path, dict[str, Any]]]]:
    """Each peer walk served once for the module, started on first use."""
    running: dict[str, tuple[ServedWalk, Path, dict[str, Any]]] = {}

    class Lazy(dict[str, tuple[ServedWalk, Path, dict[str, Any]]]):
        def __missing__(self, name: str) -> tuple[ServedWalk, Path, dict[str, Any]]:
            walk, expected = peer(name)
            running[name] = (serve_walk(walk, "public"), walk, expected)
            return running[name]

    yield Lazy()
    for agent, _, _ in running.values():
        agent.stop()


async def poll(address: str, module: str) -> ModuleResult:
    host, port = address.rsplit(":", 1)
    dev = Device("dev", host, int(port), Auth(community="public"), timeout=5.0)
    result = await poll_module(SnmpClient(), dev, get_module(module))
    assert result.success, result.error
    return result


def values(result: ModuleResult) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    return {name: {tuple((k, v) for k, v in lab if k != "gateway" and k != "cpe"): x for lab, x in fam.items()}
            for name, fam in by_name(result.families).items()}


async def test_cisco_asa_vpn_reads_what_the_asa_walk_holds(served: Any) -> None:
    agent, walk, expected = served["asa"]
    recs = records(walk)
    got = values(await poll(agent.address, "cisco_asa_vpn"))
    total = int(recs[parse_oid(f"{CRAS}.3.1.0")][1])
    limit = int(recs[parse_oid(f"{CRAS}.1.1.0")][1])
    kinds = {p: int(recs[parse_oid(f"{CRAS}.3.{n}.0")][1]) for p, n in (("ipsec", 26), ("svc", 35), ("webvpn", 38))}
    groups = {bytes(idx[1:]).decode(): int(v) for idx, (_, v) in under(recs, f"{CRAS}.3.22.1.2").items()}
    tunnels = sum(1 for _, v in under(recs, CIPSEC_STATUS).values() if v == "1")  # active(1)
    assert got["ftth_vpn_remote_access_sessions"] == {(("protocol", p),): n for p, n in kinds.items()}
    assert got["ftth_vpn_sessions"] == {(): sum(kinds.values())}
    assert got["ftth_vpn_all_sessions"] == {(): total}
    assert got["ftth_vpn_sessions_max"] == {(): limit}
    assert got["ftth_vpn_group_sessions"] == {(("group", g),): n for g, n in groups.items()}
    assert {"webvpn", "DefaultRAGroup", "DefaultL2LGroup", "DefaultWEBVPNGroup"} <= set(groups)  # decoded names
    assert got["ftth_vpn_ipsec_tunnels"] == {(): tunnels} and tunnels == 3
    assert got["ftth_vpn_sessions_capacity_ratio"] == {(): pytest.approx(sum(kinds.values()) / limit)}
    # LibreNMS counts sessions per kind (IPsec, L2L, load-balancing, SVC, WebVPN) at the same OIDs of this
    # MIB; its values for the walk are ours, and the LAN-to-LAN one is not part of remote access.
    sensors = {s["sensor_oid"]: s for s in expected["sensors"]["discovery"]["sensors"]
               if s["sensor_class"] == "count" and s["sensor_oid"].startswith(f".{CRAS}.3.")}
    assert len(sensors) == 5
    for p, n in (("ipsec", 26), ("svc", 35), ("webvpn", 38)):
        assert sensors[f".{CRAS}.3.{n}.0"]["sensor_current"] == kinds[p]
    assert "LAN to LAN" in sensors[f".{CRAS}.3.29.0"]["sensor_descr"]


async def test_fortigate_vpn_reports_nothing_the_fortigate_walk_does_not_hold(served: Any) -> None:
    agent, walk, expected = served["fortigate"]
    fg_vpn = "1.3.6.1.4.1.12356.101.12"
    assert under(records(walk), fg_vpn) == {}  # the recorded FortiGate has no fgVpn subtree at all
    assert not [s for s in expected["sensors"]["discovery"]["sensors"] if s["sensor_oid"].startswith(f".{fg_vpn}.")]
    host, port = agent.address.rsplit(":", 1)
    dev = Device("dev", host, int(port), Auth(community="public"), timeout=5.0)
    result = await poll_module(SnmpClient(), dev, get_module("fortigate_vpn"))
    # no zeros invented for a MIB the device lacks, and the poll says why it has nothing
    assert result.success is False and result.families == []
    assert result.error is not None and "does not speak fortigate_vpn's MIB" in result.error


def _walk_number(tag_value: tuple[str, str]) -> float | None:
    """The CPE's DisplayString readings as a person reads them: numbers, "H:MM:SS", or nothing."""
    text = tag_value[1].strip()
    if text.count(":") == 2:
        h, m, s = (int(x) for x in text.split(":"))
        return h * 3600 + m * 60 + s
    try:
        return float(text)
    except ValueError:
        return None


async def test_bwa_cpe_reads_and_scales_what_the_baicells_walk_holds(served: Any) -> None:
    agent, walk, expected = served["baicells-od04"]
    recs = records(walk)
    module = get_module("bwa_cpe")
    result = await poll(agent.address, "bwa_cpe")
    got = values(result)
    present = 0
    for m in module.metrics:
        raw = _walk_number(recs[parse_oid(m.oid + ".0")])
        key = tuple(sorted(m.labels.items()))
        if raw is None or raw == 65535:
            assert key not in got[m.name], m.oid  # "-": not attached, no reading
        else:
            assert got[m.name][key] == pytest.approx(raw * m.scale), m.oid  # 1, or bit/s → bytes/s
            present += 1
    assert present == 3  # rates and connection time; the radio readings are "-" in this walk
    assert result.rejected == 5  # RSRP ×2, RSRQ, SINR, Tx power
    # LibreNMS's sensors on the same OIDs, with its divisor and multiplier; runtime sensors are minutes
    ours = {f".{m.oid}.0": m.name for m in module.metrics}
    checked = 0
    for s in expected["sensors"]["discovery"]["sensors"]:
        name = ours.get(s["sensor_oid"])
        if name is None:
            continue
        value = got[name][()]
        if s["sensor_class"] == "runtime":  # minutes
            assert value // 60 == s["sensor_current"], s["sensor_descr"]
        else:  # bitrate: bit/s; ours bytes/s
            assert s["sensor_class"] == "bitrate"
            assert value * 8 == pytest.approx(s["sensor_current"] * s["sensor_multiplier"] / s["sensor_divisor"])
        checked += 1
    assert checked == 3


@pytest.mark.parametrize("device", ["asa", "fortigate", "baicells-od04"])
async def test_if_mib_still_agrees_with_librenms_ports(served: Any, device: str) -> None:
    agent, _, expected = served[device]
    ports = expected["ports"]["poller"]["ports"] or expected["ports"]["discovery"]["ports"]
    result = await poll(agent.address, "if_mib")
    oper = {int(s.labels["ifIndex"]): s for f in result.families if f.name == "ifOperStatus" for s in f.samples}
    assert ports
    for port in ports:
        s = oper[port["ifIndex"]]
        assert (s.labels["ifName"] or s.labels["ifDescr"]) == port["ifName"], port["ifIndex"]
        assert IF_STATUS[int(s.value)] == port["ifOperStatus"], port["ifIndex"]
