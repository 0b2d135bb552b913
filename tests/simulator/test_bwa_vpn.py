"""The town's BWA stations and telework VPN gateway: the model, the working-day curve, and the agents
polled with the new modules giving the model's values back.

The gateway's sessions are computed by the agent from its clock; the agents here run with the clock
frozen (``FTTHNOC_SIM_CLOCK``), so the expected value is the same pure function at the same instant.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from collectors.snmp.client import Device, SnmpClient
from collectors.snmp.module import get_module
from collectors.snmp.poll import poll_device
from ftthnoc.config import Config
from ftthnoc.inventory import db
from ftthnoc.samples import MetricFamily, is_private
from ftthnoc.telework.calendar import TeleworkConfig
from ftthnoc.telework.kpi import TeleworkKpi
from simulator.agents import TownAgents
from simulator.snmprec import BAICELLS, USER_ROWS_MAX, bwa_records
from simulator.town import Town, VpnGateway, generate_town
from simulator.variation import telework
from tests.ftthnoc.inventory.conftest import database_url, engine, make_database  # noqa: F401
from tests.towns import running

JST = telework.JST
#: a Wednesday mid-morning: the plateau of the working day
WORKING = dt.datetime(2026, 6, 10, 10, 30, tzinfo=JST).timestamp()


def at(*args: int) -> float:
    return dt.datetime(*args, tzinfo=JST).timestamp()


# --------------------------------------------------------------------------- the curve
def test_working_day_curve_follows_the_office_hours() -> None:
    day = [telework.sessions(at(2026, 6, 10, h, m), 300, 0.3, 100) for h, m in
           ((3, 0), (7, 0), (8, 30), (10, 30), (12, 30), (14, 0), (17, 15), (18, 30), (22, 0))]
    night, early, arrive, morning, lunch, afternoon, closing, evening, late = day
    assert night <= 1 and early <= 1 and late <= 2  # near 0 at night
    assert 80 <= morning <= 94 and 80 <= afternoon <= 94  # plateau: 300 staff × 0.3 (± the ripple)
    assert early < arrive < morning  # ramps from 08:30
    assert lunch < 0.7 * morning  # the lunch break dips
    assert evening < 0.5 * closing  # falls after 17:15


@pytest.mark.parametrize(
    "day",
    [
        (2026, 6, 13),  # Saturday
        (2026, 6, 14),  # Sunday
        (2026, 5, 6),  # substitute holiday (Constitution Day fell on a Sunday)
        (2026, 9, 22),  # citizens' holiday between Respect for the Aged Day and the equinox
        (2026, 3, 20),  # vernal equinox
        (2026, 12, 30),  # year-end closure of the town office
        (2027, 1, 1),
    ],
)
def test_closed_days_are_near_0_all_day(day: tuple[int, int, int]) -> None:
    assert telework.office_closed(dt.date(*day))
    assert max(telework.sessions(at(*day, h, 0), 300, 0.3, 100) for h in range(24)) <= 0.05 * 300 * 0.3


def test_ordinary_weekdays_are_working_days() -> None:
    for day in ((2026, 6, 10), (2026, 9, 24), (2026, 12, 28), (2027, 1, 4)):
        assert not telework.office_closed(dt.date(*day)), day


def test_licence_caps_and_groups_add_up() -> None:
    assert telework.sessions(WORKING, 1000, 0.3, 100) == 100  # the ASA refuses sessions past its licence
    assert telework.sessions(WORKING, 1000, 0.3, 0) > 100  # 0: no licence limit
    for total in (0, 1, 7, 90, 94):
        parts = telework.split(total, (85, 10, 5, 0))
        assert sum(parts) == total and parts[3] == 0


def test_staff_is_configuration_on_the_town_shared_by_its_gateways() -> None:
    town = generate_town(onus=60, staff=120)
    asa, fortigate = town.vpn_gateways
    assert town.staff == asa.staff + fortigate.staff == 120 and (asa.staff, fortigate.staff) == (96, 24)
    for gw in (asa, fortigate):
        assert gw.sessions_at(WORKING) == telework.sessions(WORKING, gw.staff, gw.telework_share, gw.licence_sessions)
        assert sum(gw.protocol_sessions_at(WORKING).values()) == gw.sessions_at(WORKING)
    assert sum(asa.group_sessions_at(WORKING).values()) == asa.sessions_at(WORKING)
    assert asa.all_sessions_at(WORKING) == asa.sessions_at(WORKING) + 3  # the branch offices' LAN-to-LAN tunnels


def test_the_town_has_bwa_where_fibre_arrives_last_and_one_vpn_gateway(small_town: Town) -> None:
    stations = small_town.bwa_stations
    assert len(stations) == 6 and {b.district for b in stations} == {"geihoku", "oasa"}
    assert all(1 <= len(b.cells) <= 2 and [c.index for c in b.cells] == list(range(1, len(b.cells) + 1))
               for b in stations)  # instanced from 1, as a Baicells eNB numbers its carriers
    down = [b for b in stations if not b.in_service]
    assert len(down) == 1 and down[0].s1_up and not down[0].rf_on  # one station off the air, S1 still up
    assert all(c.connected_ues == 0 for c in down[0].cells)
    for b in stations:
        assert (b.rrc_success_pct is None) == (not b.in_service) == (b.erab_success_pct is None)
        for c in b.cells:
            assert 0 <= c.dl_prb_pct <= 98 and 0 <= c.ul_kbps <= c.dl_kbps
    asa, fortigate = small_town.vpn_gateways
    assert (asa.vendor, asa.licence_sessions, asa.staff, asa.modules) == ("cisco_asa", 100, 240,
                                                                          ["if_mib", "cisco_asa_vpn"])
    assert (fortigate.vendor, fortigate.staff, fortigate.modules) == ("fortigate", 60, ["if_mib", "fortigate_vpn"])
    doc = small_town.inventory_document()
    assert doc["vpn_gateways"] == [{"name": gw.name, "vendor": gw.vendor, "address": gw.address, "auth": gw.auth,
                                    "modules": gw.modules, "licence_sessions": gw.licence_sessions}
                                   for gw in (asa, fortigate)]
    assert [b["modules"] for b in doc["bwa_stations"]] == [["if_mib", "bwa_enb"]] * 6
    cfg = Config.model_validate(small_town.poller_config())
    assert {t.name: t.modules for t in cfg.targets if t.name in (asa.name, fortigate.name)} == {
        asa.name: ["if_mib", "cisco_asa_vpn"], fortigate.name: ["if_mib", "fortigate_vpn"]}


# --------------------------------------------------------------------------- the agents
@pytest.fixture(scope="module")
def bwa_vpn_agents(small_town: Town) -> Iterator[TownAgents]:
    """Only the BWA stations and the gateway (the OLTs have their own tests), clock frozen at WORKING."""
    town = dataclasses.replace(small_town, olts=())
    with running(town, frozen_clock=WORKING) as agents:
        yield agents


async def poll_target(agents: TownAgents, name: str) -> dict[str, MetricFamily]:
    """Poll one device as the poller would: its configured modules and auth (v3 for the gateway)."""
    cfg = Config.model_validate(agents.poller_config())
    target = next(t for t in cfg.targets if t.name == name)
    results = await poll_device(SnmpClient(), Device.from_target(target, cfg.auths[target.auth]),
                                [get_module(m) for m in target.modules])
    assert all(r.success for r in results), [r.error for r in results]
    return {f.name: f for r in results for f in r.families}


def per_cell(fam: MetricFamily, station: str) -> dict[int, float]:
    assert all(s.labels["station"] == station for s in fam.samples)
    return {int(s.labels["cell"]): s.value for s in fam.samples}


def station_value(fam: MetricFamily, station: str) -> list[float]:
    assert all(s.labels == {"station": station} for s in fam.samples)  # a scalar of the station: no cell
    return [s.value for s in fam.samples]


async def test_bwa_stations_answer_the_model(bwa_vpn_agents: TownAgents) -> None:
    for b in bwa_vpn_agents.town.bwa_stations:
        fams = await poll_target(bwa_vpn_agents, b.name)
        cells = {c.index: c for c in b.cells}
        assert station_value(fams["ftth_bwa_cell_up"], b.name) == [float(b.in_service)]
        assert station_value(fams["ftth_bwa_rf_up"], b.name) == [float(b.rf_on)]
        assert station_value(fams["ftth_bwa_s1_up"], b.name) == [float(b.s1_up)]
        for name, pct in (("ftth_bwa_rrc_success_ratio", b.rrc_success_pct),
                          ("ftth_bwa_erab_success_ratio", b.erab_success_pct)):
            assert station_value(fams[name], b.name) == ([] if pct is None else [pytest.approx(pct / 100)])
        got = {n: per_cell(f, b.name) for n, f in fams.items()
               if n.startswith("ftth_bwa_") and "cell" in {k for s in f.samples for k in s.labels}}
        assert got["ftth_bwa_connected_ues"] == {i: c.connected_ues for i, c in cells.items()}
        assert got["ftth_bwa_downlink_bytes_per_second"] == {i: c.dl_kbps * 1000 / 8 for i, c in cells.items()}
        assert got["ftth_bwa_uplink_bytes_per_second"] == {i: c.ul_kbps * 1000 / 8 for i, c in cells.items()}
        assert got["ftth_bwa_downlink_prb_utilisation_ratio"] == {
            i: pytest.approx(c.dl_prb_pct / 100) for i, c in cells.items()}
        assert got["ftth_bwa_uplink_prb_utilisation_ratio"] == {
            i: pytest.approx(c.ul_prb_pct / 100) for i, c in cells.items()}
        [eth0] = [s for s in fams["ifOperStatus"].samples]
        assert eth0.labels["ifName"] == "eth0" and eth0.labels["device"] == b.name and eth0.value == 1


def test_the_agents_prb_columns_are_baicells_ul_then_dl(small_town: Town) -> None:
    """The data file itself, read without the module: UL PRB at .190.9.{cell}.0, DL at .190.10.{cell}.0
    (BAICELLS-MIB ulPrbUtilization / dlPrbUtilization), as the baicells pack's sources say."""
    b = next(s for s in small_town.bwa_stations if s.in_service)
    recs = {oid: value for oid, _tag, value in bwa_records(b, moving_counters=False)}
    for c in b.cells:
        assert recs[(*BAICELLS, 190, 9, c.index, 0)] == str(c.ul_prb_pct)
        assert recs[(*BAICELLS, 190, 10, c.index, 0)] == str(c.dl_prb_pct)
        assert recs[(*BAICELLS, 100, 11, c.index, 0)] == str(c.connected_ues)
    assert recs[(*BAICELLS, 100, 5, 0)] == "1" and recs[(*BAICELLS, 270, 1, 1, 0)] == "1"


async def test_vpn_gateways_answer_the_working_day_curve(bwa_vpn_agents: TownAgents) -> None:
    asa, fortigate = bwa_vpn_agents.town.vpn_gateways
    for gw in (asa, fortigate):
        fams = await poll_target(bwa_vpn_agents, gw.name)

        def one(name: str, gw: VpnGateway = gw, fams: dict[str, MetricFamily] = fams) -> float:
            [s] = fams[name].samples
            assert s.labels == {"gateway": gw.name}
            return s.value

        expected = gw.sessions_at(WORKING)
        assert 0.8 * 0.3 * gw.staff <= expected <= 0.95 * 0.3 * gw.staff + 1  # the frozen instant: the plateau
        assert one("ftth_vpn_sessions") == expected  # remote access only: what the telework KPI reads
        per_protocol = {s.labels["protocol"]: s.value for s in fams["ftth_vpn_remote_access_sessions"].samples}
        assert per_protocol == gw.protocol_sessions_at(WORKING)
        assert one("ftth_vpn_ipsec_tunnels") == sum(t.active for t in gw.tunnels)
        # Distinct users (a count): one simulated staffNNN per session row (the first USER_ROWS_MAX sessions); on
        # the FortiGate the SSL-VPN users only (dial-up IPsec peers carry no name in the MIB).
        assert one("ftth_vpn_users") == min(expected if gw is asa else per_protocol["ssl"], USER_ROWS_MAX)
        assert all("user" not in smp.labels for f in fams.values() for smp in f.samples)
        if gw is asa:
            assert set(per_protocol) == {"ipsec", "svc", "webvpn"}
            assert one("ftth_vpn_all_sessions") == gw.all_sessions_at(WORKING) == expected + 3  # + LAN-to-LAN
            assert one("ftth_vpn_sessions_max") == gw.licence_sessions
            assert one("ftth_vpn_sessions_capacity_ratio") == pytest.approx(expected / gw.licence_sessions)
            groups = {s.labels["group"]: s.value for s in fams["ftth_vpn_group_sessions"].samples}
            assert groups == gw.group_sessions_at(WORKING)
            assert {s.labels["ifName"] for s in fams["ifOperStatus"].samples} == {"outside", "inside", "management"}
        else:  # the dial-up FortiClient peers are rows of fgVpnDialupTable, counted
            assert set(per_protocol) == {"ssl", "ipsec"} and per_protocol["ipsec"] > 0
            assert "ftth_vpn_all_sessions" not in fams and not fams["ftth_vpn_sessions_capacity_ratio"].samples


async def test_the_simulated_gateways_users_reach_the_telework_kpi(bwa_vpn_agents: TownAgents,
                                                                   engine: Engine) -> None:  # noqa: F811
    """Both simulated gateways polled as the poller does; their private user lists (simulated staffNNN, one per
    session row: the ASA's every remote-access session, the FortiGate's SSL-VPN tunnels) reach the KPI, which
    counts the town's distinct users: the same simulated staff on either gateway are one person each."""
    cfg = Config.model_validate(bwa_vpn_agents.poller_config())
    when = dt.datetime.fromtimestamp(WORKING, dt.UTC)
    kpi = TeleworkKpi(db.session_factory(engine), TeleworkConfig(staff=500), clock=lambda: when, user_key=b"k" * 32)
    asa, fortigate = bwa_vpn_agents.town.vpn_gateways
    figure = None
    for gw in (asa, fortigate):
        target = next(t for t in cfg.targets if t.name == gw.name)
        results = await poll_device(SnmpClient(), Device.from_target(target, cfg.auths[target.auth]),
                                    [get_module(m) for m in target.modules])
        private = [f for r in results for f in r.private]
        assert private and not any(is_private(f.name) for r in results for f in r.families)
        figure = kpi.observe_users(gw.name, private, when)
    expected = min(max(asa.sessions_at(WORKING), fortigate.protocol_sessions_at(WORKING)["ssl"]), USER_ROWS_MAX)
    assert figure is not None and (figure.teleworkers, figure.staff) == (expected, 500)


async def test_the_curve_moves_with_the_agents_clock(bwa_vpn_agents: TownAgents) -> None:
    """Restarted with the clock at 03:00 on a Saturday, the gateways report the night-time trickle (the
    FortiGate's dial-up rows are gone from its table)."""
    night = at(2026, 6, 13, 3, 0)
    for gw in bwa_vpn_agents.town.vpn_gateways:
        agent = bwa_vpn_agents.agents[gw.name]
        agent.env = {**agent.env, telework.CLOCK_ENV: repr(night)}
        try:
            bwa_vpn_agents.restart(gw.name)
            fams = await poll_target(bwa_vpn_agents, gw.name)
            assert [s.value for s in fams["ftth_vpn_sessions"].samples] == [gw.sessions_at(night)]
            per_protocol = {s.labels["protocol"]: s.value for s in fams["ftth_vpn_remote_access_sessions"].samples}
            assert per_protocol == gw.protocol_sessions_at(night)
            assert gw.sessions_at(night) <= 1
        finally:
            agent.env = {**agent.env, telework.CLOCK_ENV: repr(WORKING)}
            bwa_vpn_agents.restart(gw.name)


def test_a_dial_up_row_exists_only_while_its_peer_is_connected() -> None:
    params = "staff=60,share=0.3,licence=50,weights=70/30,part=1"
    peers = telework.split(telework.sessions(WORKING, 60, 0.3, 50), (70, 30))[1]
    assert peers > 0
    assert telework.value_of(f"{params},slot={peers - 1},value=1", WORKING) == 1
    assert telework.value_of(f"{params},slot={peers},value=1", WORKING) is None
    assert telework.value_of("staff=240,share=0.3,licence=100,plus=3", WORKING) == \
        telework.sessions(WORKING, 240, 0.3, 100) + 3
