"""What the telework KPI counts, fed by the gateway modules themselves: staff connected from outside.

``read_sessions`` takes ``ftth_vpn_sessions`` and nothing else. These tests decode what an ASA and a
FortiGate answer and check that the KPI's sample is the remote-access users: the ASA's LAN-to-LAN tunnels
(in crasNumSessions, now ``ftth_vpn_all_sessions``) stay out, the FortiGate's dial-up FortiClient peers
are in, and the per-protocol series are not counted twice.
"""

from __future__ import annotations

from collectors.snmp import ber
from collectors.snmp.ber import VarBind, parse_oid
from collectors.snmp.decode import decode_module
from collectors.snmp.module import get_module
from ftthnoc.telework.kpi import read_sessions

CRAS = "1.3.6.1.4.1.9.9.392.1"
FGVPN = "1.3.6.1.4.1.12356.101.12"


def col(oid: str, rows: dict[tuple[int, ...], int], tag: int = ber.GAUGE32) -> tuple[tuple[int, ...], list[VarBind]]:
    root = parse_oid(oid)
    return root, [VarBind(root + idx, tag, v) for idx, v in rows.items()]


def test_an_asas_lan_to_lan_tunnels_are_not_staff_working_remotely() -> None:
    # 40 AnyConnect + 4 IPsec client + 1 WebVPN users; 3 branch-office tunnels; crasNumSessions 48
    columns = dict([col(f"{CRAS}.3.26", {(0,): 4}), col(f"{CRAS}.3.35", {(0,): 40}), col(f"{CRAS}.3.38", {(0,): 1}),
                    col(f"{CRAS}.3.29", {(0,): 3}), col(f"{CRAS}.3.1", {(0,): 48}),
                    col(f"{CRAS}.1.1", {(0,): 100}, ber.INTEGER)])
    families, _ = decode_module(get_module("cisco_asa_vpn"), columns, "townhall-asa")
    assert read_sessions("townhall-asa", families) == {"townhall-asa": 45}


def test_a_fortigates_dial_up_ipsec_users_are_counted_with_its_ssl_vpn_users() -> None:
    columns = dict([col(f"{FGVPN}.2.3.1.2", {(1,): 20}),
                    col(f"{FGVPN}.2.1.1.8", {(i,): 1 for i in range(1, 8)}, ber.INTEGER)])
    families, _ = decode_module(get_module("fortigate_vpn"), columns, "kyoiku-fg")
    assert read_sessions("kyoiku-fg", families) == {"kyoiku-fg": 27}


def test_a_gateway_that_answers_no_remote_access_counter_is_an_outage_not_zero() -> None:
    families, _ = decode_module(get_module("cisco_asa_vpn"), dict([col(f"{CRAS}.3.1", {(0,): 48})]), "asa")
    assert read_sessions("asa", families) == {}  # the family is there, with no sample: no figure for this gateway
