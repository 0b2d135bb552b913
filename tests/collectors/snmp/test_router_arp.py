"""The ``school_router_arp`` module: the ARP table (ipNetToMediaPhysAddress, index ifIndex.a.b.c.d) as
``ftth_router_arp_entry_info{if_index, ip, mac}``, with the ``ipv4_address`` index part and the ``mac``
format (exactly 6 octets, else no reading). Decoding rules first, then real snmpsim agents: a hand-written
table and a FortiGate walk recorded by LibreNMS (values checked by hand against the file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors.snmp import ber, quirks
from collectors.snmp.ber import VarBind, parse_oid
from collectors.snmp.client import Device, SnmpClient
from collectors.snmp.decode import decode_module, format_octets
from collectors.snmp.module import get_module
from collectors.snmp.poll import ModuleResult, poll_module
from ftthnoc.config import Auth
from ftthnoc.samples import MetricFamily
from simulator.agents import serve_walk
from tests.towns import require_snmpsim

ARP = "1.3.6.1.2.1.4.22.1.2"
NAME = "ftth_router_arp_entry_info"
PEER = Path(__file__).resolve().parents[3].parent / "shared" / "peer-data" / "librenms"


def entries(fams: list[MetricFamily]) -> set[tuple[str, str, str, str]]:
    out = set()
    for fam in fams:
        assert fam.name == NAME and fam.type == "info"
        for s in fam.samples:
            assert s.value == 1.0 and set(s.labels) == {"device", "if_index", "ip", "mac"}
            out.add((s.labels["device"], s.labels["if_index"], s.labels["ip"], s.labels["mac"]))
    return out


def test_ipv4_address_index_takes_four_octets() -> None:
    assert quirks.ipv4_address((10, 128, 0, 16)) == ("10.128.0.16", 4)
    assert quirks.ipv4_address((10, 128, 0, 16, 7)) == ("10.128.0.16", 4)  # leaves the rest
    assert quirks.ipv4_address((10, 128, 0)) is None  # too short
    assert quirks.ipv4_address((10, 256, 0, 1)) is None  # not an octet


def test_mac_format_is_six_octets_in_the_inventorys_spelling() -> None:
    assert format_octets(bytes.fromhex("024B480000FF"), "mac") == "02:4b:48:00:00:ff"
    module = get_module("school_router_arp")
    root = parse_oid(ARP)
    rows = [
        VarBind((*root, 1, 10, 128, 0, 16), ber.OCTET_STRING, bytes.fromhex("024B48000001")),  # good
        VarBind((*root, 2, 192, 168, 1, 1), ber.OCTET_STRING, bytes.fromhex("0000 5E00 0101")),  # good, ifIndex 2
        VarBind((*root, 1, 10, 128, 0, 17), ber.OCTET_STRING, bytes.fromhex("024B480000")),  # 5 octets
        VarBind((*root, 1, 10, 128, 0, 18), ber.OCTET_STRING, b""),  # empty (an incomplete entry)
        VarBind((*root, 1, 10, 128, 0, 19), ber.INTEGER, 5),  # wrong type
        VarBind((*root, 1, 10, 128, 0), ber.OCTET_STRING, bytes.fromhex("024B48000002")),  # short index
        VarBind((*root, 1, 10, 128, 0, 20, 1), ber.OCTET_STRING, bytes.fromhex("024B48000003")),  # long index
    ]
    fams, rejected = decode_module(module, {root: rows}, "sch-01-rtx")
    assert entries(fams) == {("sch-01-rtx", "1", "10.128.0.16", "02:4b:48:00:00:01"),
                             ("sch-01-rtx", "2", "192.168.1.1", "00:00:5e:00:01:01")}
    assert rejected == 5


async def poll(address: str) -> ModuleResult:
    host, port = address.rsplit(":", 1)
    dev = Device("rtr", host, int(port), Auth(community="public"), timeout=5.0)
    client = SnmpClient()
    try:
        result = await poll_module(client, dev, get_module("school_router_arp"))
    finally:
        client.close()
    assert result.success, result.error
    return result


#: a router with four ARP rows (two on LAN1, one on LAN2, one with a truncated MAC) and the next column
HAND_TABLE = """\
1.3.6.1.2.1.1.1.0|4|RTX1220 test
1.3.6.1.2.1.4.22.1.1.1.10.128.0.16|2|1
1.3.6.1.2.1.4.22.1.1.1.10.128.0.200|2|1
1.3.6.1.2.1.4.22.1.1.1.10.128.0.201|2|1
1.3.6.1.2.1.4.22.1.1.2.192.0.2.1|2|2
1.3.6.1.2.1.4.22.1.2.1.10.128.0.16|4x|024B48000001
1.3.6.1.2.1.4.22.1.2.1.10.128.0.200|4x|024B480000C8
1.3.6.1.2.1.4.22.1.2.1.10.128.0.201|4x|024B4800
1.3.6.1.2.1.4.22.1.2.2.192.0.2.1|4x|00005E000101
1.3.6.1.2.1.4.22.1.3.1.10.128.0.16|64|10.128.0.16
1.3.6.1.2.1.4.22.1.4.1.10.128.0.16|2|3
"""


@pytest.fixture(scope="module")
def have_snmpsim() -> None:
    require_snmpsim()


async def test_a_real_agents_arp_table(have_snmpsim: None, tmp_path: Path) -> None:
    walk = tmp_path / "router.snmprec"
    walk.write_text(HAND_TABLE)
    with serve_walk(walk, "public") as agent:
        result = await poll(agent.address)
    assert entries(result.families) == {
        ("rtr", "1", "10.128.0.16", "02:4b:48:00:00:01"),
        ("rtr", "1", "10.128.0.200", "02:4b:48:00:00:c8"),
        ("rtr", "2", "192.0.2.1", "00:00:5e:00:01:01"),
    }
    assert (result.varbinds, result.rejected) == (4, 1)  # the 4-octet MAC is no reading


async def test_the_fortigate_walk_librenms_recorded(have_snmpsim: None) -> None:
    walk = PEER / "fortigate.snmprec"
    if not walk.exists():
        pytest.skip(f"LibreNMS peer walk not present in {PEER}")
    with serve_walk(walk, "public") as agent:
        result = await poll(agent.address)
    # the file's five rows, by hand: 1.169.254.0.2, 10.169.254.0.2 and 33.1.2.3.33 are ifIndex + address;
    # 30.10.90.6 and 35.10.93.1 carry a three-octet address (the walk is anonymised) and are skipped
    assert entries(result.families) == {
        ("rtr", "1", "169.254.0.2", "70:4c:a5:ea:61:47"),
        ("rtr", "10", "169.254.0.2", "70:4c:a5:ea:61:3b"),
        ("rtr", "33", "1.2.3.33", "00:00:5e:00:01:5a"),
    }
    assert result.rejected == 2
