"""The poller against the simulated town's real snmpsim agents, with net-snmp as the second opinion."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections import Counter
from typing import Any

import pytest

from collectors.runner import Poller
from collectors.snmp import ber
from collectors.snmp.client import Device, SnmpClient
from collectors.snmp.decode import district_labeler
from collectors.snmp.module import get_module
from collectors.snmp.poll import poll_device, poll_module
from ftthnoc.config import Config, Target
from ftthnoc.errors import SnmpAuthError
from ftthnoc.samples import MetricFamily
from simulator.agents import TownAgents
from simulator.town import Olt
from tests.collectors.snmp import misbehaving_agents

ONU_METRICS = {
    "ftth_onu_rx_power_dbm": "rx_dbm",
    "ftth_onu_tx_power_dbm": "tx_dbm",
    "ftth_onu_olt_rx_power_dbm": "olt_rx_dbm",
    "ftth_onu_distance_meters": "distance_m",
    "ftth_onu_temperature_celsius": "temperature_c",
}


def config_of(agents: TownAgents) -> Config:
    return Config.model_validate(agents.poller_config())


def target_of(cfg: Config, olt: Olt, auth: str | None = None) -> Device:
    t = next(t for t in cfg.targets if t.name == olt.name)
    return Device.from_target(t, cfg.auths[auth or t.auth])


def by_onu(families: list[MetricFamily], name: str) -> dict[tuple[str, int], float]:
    fam = next((f for f in families if f.name == name), None)
    if fam is None:
        return {}
    return {(s.labels["pon_port"], int(s.labels["onu_id"])): s.value for s in fam.samples}


def gpon_module(olt: Olt) -> str:
    return "huawei_gpon" if olt.vendor == "huawei" else "zte_gpon"


def assert_matches_model(olt: Olt, families: list[MetricFamily]) -> None:
    """Every ONU of the model is reported with its exact values; no-reading columns stay absent."""
    onus = {(o.pon_port, o.onu_id): o for o in olt.onus()}
    up = by_onu(families, "ftth_onu_up")
    assert up == {k: (1.0 if o.online else 0.0) for k, o in onus.items()}
    for metric, attr in ONU_METRICS.items():
        got = by_onu(families, metric)
        want = {k: getattr(o, attr) for k, o in onus.items() if getattr(o, attr) is not None}
        assert got.keys() == want.keys(), f"{olt.name} {metric}: instances differ"
        for k, v in want.items():
            assert got[k] == pytest.approx(v, abs=1e-6), f"{olt.name} {metric} {k}"
    serials = {(s.labels["pon_port"], int(s.labels["onu_id"])): s.labels["serial"]
               for f in families if f.name == "ftth_onu_info" for s in f.samples}
    assert {k: v.replace("-", "") for k, v in serials.items()} == {
        k: o.serial.replace("-", "") for k, o in onus.items()}


async def test_v2c_poll_of_every_olt_matches_the_town_model(small_agents: TownAgents) -> None:
    cfg = config_of(small_agents)
    client = SnmpClient()
    for olt in small_agents.town.olts:
        dev = target_of(cfg, olt, "public_v2")
        result = await poll_module(client, dev, get_module(gpon_module(olt)))
        assert result.success, result.error
        assert_matches_model(olt, result.families)


async def test_if_mib_poll_of_every_olt_lists_every_interface_of_the_model(small_agents: TownAgents) -> None:
    """The whole ifTable walked at once (if_mib's ``walk:``) reaches every row: Huawei's PON-port ifIndex
    values above 2³¹−1 once ended the simulated agent's table after the uplinks."""
    cfg = config_of(small_agents)
    client = SnmpClient()
    for olt in small_agents.town.olts:
        result = await poll_module(client, target_of(cfg, olt, "public_v2"), get_module("if_mib"))
        assert result.success, result.error
        fams = {f.name: f for f in result.families}
        for name in ("ifIndex", "ifOperStatus", "ifHCInOctets"):
            got = {int(s.labels["ifIndex"]): s.value for s in fams[name].samples}
            assert sorted(got) == sorted(i.if_index for i in olt.interfaces()), f"{olt.name} {name}"
        assert {int(s.labels["ifIndex"]): s.value for s in fams["ifOperStatus"].samples} == {
            i.if_index: 1.0 if i.oper_up else 2.0 for i in olt.interfaces()}


async def test_sentinels_and_missing_columns_never_become_numbers(small_agents: TownAgents) -> None:
    cfg = config_of(small_agents)
    for vendor in ("huawei", "zte"):
        olt = next(o for o in small_agents.town.olts if o.vendor == vendor)
        offline = [o for o in olt.onus() if not o.online]
        assert offline, "the town must have offline ONUs on every OLT for this test"
        result = await poll_module(SnmpClient(), target_of(cfg, olt, "public_v2"), get_module(gpon_module(olt)))
        rx = by_onu(result.families, "ftth_onu_rx_power_dbm")
        assert all((o.pon_port, o.onu_id) not in rx for o in offline)
        assert all(-50 < v < 15 for v in rx.values())
        assert result.rejected >= len(offline)
        # offline ONUs answer 65535 (ZTE) / 2147483647 (Huawei) in Tx and temperature too: absent
        for metric in ("ftth_onu_tx_power_dbm", "ftth_onu_temperature_celsius"):
            assert all((o.pon_port, o.onu_id) not in by_onu(result.families, metric) for o in offline)
        if vendor == "zte":  # a line below -30 dBm arrives as an unsigned 16-bit value, and is shown
            weak = {(o.pon_port, o.onu_id): o.rx_dbm for o in olt.onus() if o.rx_dbm is not None and o.rx_dbm < -30}
            assert weak, "the town's ZTE OLTs must have lines below -30 dBm for this test"
            assert {k: rx[k] for k in weak} == pytest.approx(weak)


@pytest.mark.parametrize("auth", ["olt_v3", "olt_v3_aes128"])
async def test_v3_poll_gives_the_same_values_as_v2c(small_agents: TownAgents, auth: str) -> None:
    cfg = config_of(small_agents)
    assert cfg.auths[auth].version == 3 and cfg.auths[auth].security_level == "authPriv"
    olt = next(o for o in small_agents.town.olts if o.vendor == "huawei")
    client = SnmpClient()
    try:
        result = await poll_module(client, target_of(cfg, olt, auth), get_module("huawei_gpon"))
    finally:
        client.close()
    assert result.success, result.error
    assert_matches_model(olt, result.families)


async def test_wrong_v3_key_fails_clearly(small_agents: TownAgents) -> None:
    cfg = config_of(small_agents)
    good = cfg.auths["olt_v3"]
    bad = good.model_copy(update={"password": type(good.password)("not-the-key-0")})
    olt = small_agents.town.olts[0]
    dev = Device.from_target(next(t for t in cfg.targets if t.name == olt.name), bad)
    client = SnmpClient()
    try:
        with pytest.raises(SnmpAuthError, match="authentication failed"):
            await client.get(dev, [(1, 3, 6, 1, 2, 1, 1, 5, 0)])
        result = await poll_module(client, dev, get_module("if_mib"))
    finally:
        client.close()
    assert not result.success and result.error is not None and "authentication failed" in result.error
    assert "not-the-key" not in result.error  # the secret is never echoed


def netsnmp_walk(tool: str, address: str, oid: str) -> dict[tuple[int, ...], str]:
    out = subprocess.run([tool, "-v2c", "-c", "public", "-On", "-Oq", "-Ox", "-Cr25", address, oid],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    rows = {}
    for line in out.splitlines():
        name, _, value = line.partition(" ")
        if name.startswith(".") and not value.startswith("No more variables"):  # endOfMibView marker
            rows[tuple(int(x) for x in name.strip(".").split("."))] = value.strip().strip('"')
    return rows


def ours_as_text(vb: ber.VarBind) -> str:
    if isinstance(vb.value, bytes):
        return " ".join(f"{b:02X}" for b in vb.value)
    return str(vb.value)


@pytest.mark.parametrize("vendor", ["huawei", "zte"])
async def test_every_column_agrees_value_for_value_with_snmpbulkwalk(
    small_agents: TownAgents, net_snmp: dict[str, str], vendor: str
) -> None:
    cfg = config_of(small_agents)
    olt = next(o for o in small_agents.town.olts if o.vendor == vendor)
    dev = target_of(cfg, olt, "public_v2")
    module = get_module(gpon_module(olt))
    walk = await SnmpClient().walk(dev, module.roots())
    compared = 0
    for root in module.roots():
        theirs = netsnmp_walk(net_snmp["snmpbulkwalk"], olt.address, ber.format_oid(root))
        ours = {vb.oid: ours_as_text(vb) for vb in walk.columns[root]}
        assert ours.keys() == theirs.keys(), f"{ber.format_oid(root)}: instances differ"
        for oid, text in theirs.items():
            assert ours[oid] == text.replace("\n", " ").strip(), ber.format_oid(oid)
        compared += len(theirs)
    assert compared == walk.varbinds > 0


async def test_district_labels_come_from_the_inventory(small_agents: TownAgents, tmp_path: Any) -> None:
    from ftthnoc.inventory import db, io, lookup

    url = f"sqlite:///{tmp_path}/inv.db"
    db.upgrade(url)
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        io.import_document(s, small_agents.inventory_document())
    with db.session_scope(engine) as s:
        onus = {(o, p, str(i)): d for (o, p, i), d in lookup.onu_districts(s).items()}
        olts = lookup.olt_districts(s)
    households = {h.code: h.district for h in small_agents.town.households}
    cfg = config_of(small_agents)
    olt = small_agents.town.olts[0]
    result = await poll_module(SnmpClient(), target_of(cfg, olt, "public_v2"), get_module(gpon_module(olt)),
                               labeler=district_labeler(onus, olts))
    rx = next(f for f in result.families if f.name == "ftth_onu_rx_power_dbm")
    want = {(o.pon_port, str(o.onu_id)): households[o.household] for o in olt.onus()}
    assert rx.samples and all(s.labels["district"] == want[(s.labels["pon_port"], s.labels["onu_id"])]
                              for s in rx.samples)
    port = next(f for f in result.families if f.name == "ftth_pon_port_onus")
    assert {s.labels["district"] for s in port.samples} <= {d.code for d in small_agents.town.districts}


async def test_an_unreachable_olt_costs_only_its_own_timeout(small_agents: TownAgents) -> None:
    """A silent OLT (no ICMP, no answer) with a timeout × 2 tries; the others must not wait for it.

    The timeout scales with this machine's speed now: twice what polling the live OLTs alone takes, so
    that "the live ones finished first" is about the scheduler, not about how busy the machine is."""
    cfg = config_of(small_agents)
    t0 = time.monotonic()
    await Poller(cfg, lambda *_: None).run(asyncio.Event(), cycles=1)
    timeout = max(2.0, (time.monotonic() - t0) * 2)
    transport, proto, port = await misbehaving_agents.start(misbehaving_agents.silent)
    dead = Target(name="olt-dead", address=f"127.0.0.1:{port}", modules=["if_mib", "huawei_gpon"],
                  auth="public_v2", timeout=timeout, retries=1)
    cfg = cfg.model_copy(update={"targets": [*cfg.targets, dead]})
    finished: dict[str, float] = {}
    published: dict[tuple[str, str], list[MetricFamily]] = {}

    def publish(target: str, module: str, families: list[MetricFamily]) -> None:
        published[(target, module)] = families
        if module == "_scrape":
            finished[target] = time.monotonic() - start

    poller = Poller(cfg, publish)
    start = time.monotonic()
    try:
        await poller.run(asyncio.Event(), cycles=1)
    finally:
        transport.close()
    alive = [t.name for t in cfg.targets if t.name != "olt-dead"]
    assert set(finished) == {*alive, "olt-dead"}
    assert finished["olt-dead"] >= 2 * timeout  # it really waited its timeout × 2 tries
    # every live OLT was published before the dead one gave up: none waited behind it
    assert max(finished[n] for n in alive) < finished["olt-dead"]
    success = {s.labels["target"]: s.value for f in published[("olt-dead", "_scrape")]
               if f.name == "ftthnoc_scrape_success" for s in f.samples}
    assert success == {"olt-dead": 0.0}
    # one timeout for the whole device: the two requests in flight (concurrency 2) and their one retry
    # each, not a timeout per subtree of its 37
    assert 2 <= proto.requests <= 4
    for name in alive:
        ok = [s.value for f in published[(name, "_scrape")] if f.name == "ftthnoc_scrape_success"
              for s in f.samples]
        assert ok and all(v == 1.0 for v in ok), name


@pytest.mark.full_town
async def test_getbulk_over_the_full_7000_onu_town(full_agents: TownAgents) -> None:
    cfg = config_of(full_agents)
    client = SnmpClient()
    results = await asyncio.gather(*[
        poll_device(client, target_of(cfg, olt, "public_v2"), [get_module(gpon_module(olt))])
        for olt in full_agents.town.olts
    ])
    seen: Counter[str] = Counter()
    for olt, res in zip(full_agents.town.olts, results, strict=True):
        assert res[0].success, res[0].error
        assert_matches_model(olt, res[0].families)
        seen[olt.district] += len(by_onu(res[0].families, "ftth_onu_up"))
    assert sum(seen.values()) == 7000
    assert seen == Counter(full_agents.town.onus_by_district())
