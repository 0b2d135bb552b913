"""The generator: deterministic, and the numbers add up."""

from __future__ import annotations

import collections
import hashlib
import json
import re
from typing import Any

import pytest

from ftthnoc.config import Config
from simulator.snmprec import device_records, huawei_dbm_raw, huawei_olt_rx_raw, render, zte_olt_rx_raw, zte_rx_raw
from simulator.town import (
    DEFAULT_DISTRICTS,
    MAX_ONUS_PER_PORT,
    WEAK_RX_DBM,
    DistrictSpec,
    FaultRates,
    Town,
    generate_town,
)


def test_same_seed_same_town(small_town: Town) -> None:
    again = generate_town(seed=2026, onus=600)
    assert again == small_town
    assert again.inventory_document() == small_town.inventory_document()


def _digest(document: Any) -> str:
    return hashlib.sha256(json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


#: Digests of ``generate_town(seed=2026, onus=600)`` computed before ``simulator/town.py`` was split into
#: modules: a refactoring of the generator must give the same town, byte for byte. A deliberate change of
#: the town updates them (and says so in its commit). Changed on purpose since: the Huawei OLTs' data
#: (last up/down/dying-gasp times, model and firmware, port state, ONUs down on purpose), the ZTE optics
#: (index {pon}.{onu}.1, signed Rx), and the BWA and VPN layouts corrected against public sources (PRB
#: columns, {cell}.0 instances; ASA remote-access columns; a FortiGate gateway). Per-agent digests of the
#: merge were checked: each OLT's data equals its vendor branch's, each BWA/VPN agent's the edge branch's.
#: Then: Huawei's ifIndex values above 2³¹−1 are sent as Gauge32, which snmpsim can encode.
#: Then: the inventory documents gained the splitters and each ONU's drop (derived, no draw: the poller
#: configuration and every agent's data are unchanged).
PINNED = {
    "inventory": "f4f2029185af92140c66bb95f4e10c3a6062cee89502120b24e1159fb300b7dc",
    "poller_config": "58196299e8c88c81b084fb58a2a832cfe4017dbe19519d4c43477cbb3a4a0afd",
    "inventory_with_routers": "306cf68f0a448ce1eb8063be2a84a167e1b34ddf8b402abd581e3e954f0ffa72",
    "poller_config_with_routers": "cd8b5b911e8eddeabfc832a58798ea15abdb914e094c4c73df43d7231007a0cb",
    "snmprec_with_routers": "d117a46f9016a9c93f598ad2974753a6d3db608d7605c5772ab21b8f9c0cd62a",
}


def test_the_town_is_pinned(small_town: Town) -> None:
    """Same seed, same town as before the generator's split: its documents and every agent's data."""
    with_routers = generate_town(seed=2026, onus=600, school_routers=True)
    data = hashlib.sha256()
    for d in with_routers.devices():
        data.update(d.name.encode() + b"\n" + render(device_records(d)).encode("utf-8"))
    assert {
        "inventory": _digest(small_town.inventory_document()),
        "poller_config": _digest(small_town.poller_config()),
        "inventory_with_routers": _digest(with_routers.inventory_document()),
        "poller_config_with_routers": _digest(with_routers.poller_config()),
        "snmprec_with_routers": data.hexdigest(),
    } == PINNED


def test_other_seed_other_town(small_town: Town) -> None:
    other = generate_town(seed=2027, onus=600)
    assert [u.serial for u in other.onus()] != [u.serial for u in small_town.onus()]


def test_onus_spread_by_households(small_town: Town) -> None:
    by_district = small_town.onus_by_district()
    assert sum(by_district.values()) == 600
    total = sum(d.households for d in small_town.districts)
    for d in small_town.districts:
        assert abs(by_district[d.code] - 600 * d.households / total) < 1


def test_ports_and_ids(small_town: Town) -> None:
    for olt in small_town.olts:
        for port in olt.pon_ports:
            assert len(port.onus) <= MAX_ONUS_PER_PORT
            ids = [u.onu_id for u in port.onus]
            assert len(ids) == len(set(ids))
            assert all(0 <= i < 128 for i in ids)
            assert all(u.pon_port == port.name and u.olt == olt.name for u in port.onus)
    serials = [u.serial for u in small_town.onus()]
    assert len(serials) == len(set(serials))
    for olt in small_town.olts:
        prefix = "HWTC" if olt.vendor == "huawei" else "ZTEG"
        assert all(re.fullmatch(prefix + "[0-9A-F]{8}", u.serial) for u in olt.onus())


def test_pon_port_indexes(small_town: Town) -> None:
    for olt in small_town.olts:
        for p in olt.pon_ports:
            if olt.vendor == "huawei":
                f, s, n = map(int, p.name.split("/"))
                assert p.interface.if_index == 4194304000 + f * 2**19 + s * 8192 + n * 256 == p.pon_index
                assert p.interface.name == f"GPON {p.name}"
            else:
                _, s, n = map(int, p.name.split("/"))
                assert p.pon_index == 0x10000000 + s * 65536 + n * 256
                assert p.interface.name == f"gpon_{p.name}"
    zte = next(o for o in small_town.olts if o.vendor == "zte")
    assert zte.pon_ports[0].name == f"1/{zte.pon_ports[0].slot}/1"


def test_households(small_town: Town) -> None:
    statuses = collections.Counter(h.status for h in small_town.households)
    assert statuses["active"] == 600
    assert len(small_town.households) > 600
    assert set(statuses) <= {"applied", "surveyed", "installed", "active"}
    codes = [h.code for h in small_town.households]
    assert len(codes) == len(set(codes))
    by_code = {h.code: h for h in small_town.households}
    onu_households = [u.household for u in small_town.onus()]
    assert len(onu_households) == len(set(onu_households))
    for u in small_town.onus():
        h = by_code[u.household]
        assert h.status == "active" and h.onu_serial == u.serial
        assert h.district == small_town.olt(u.olt).district
    assert [c.household for c in small_town.contacts] == codes
    assert all(re.fullmatch(r"住民 \d{6}", c.name) for c in small_town.contacts)


def test_schools_and_tablets(small_town: Town) -> None:
    assert len(small_town.schools) == 10
    assert {s.district for s in small_town.schools} == {d.code for d in small_town.districts}
    per_school = collections.Counter(t.school for t in small_town.tablets)
    for s in small_town.schools:
        assert 20 <= s.pupils <= 400
        assert per_school[s.code] == s.pupils
    macs = [t.mac for t in small_town.tablets]
    assert len(macs) == len(set(macs))
    assert all(re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", m) for m in macs)
    assert len({t.serial for t in small_town.tablets}) == len(small_town.tablets)
    assert len({t.asset_no for t in small_town.tablets}) == len(small_town.tablets)


def test_fault_mix(small_town: Town) -> None:
    onus = list(small_town.onus())
    states = collections.Counter(u.state for u in onus)
    assert states["dying_gasp"] >= 1 and states["los"] >= 1
    weak = [u for u in onus if u.weak]
    assert weak and all(u.online and u.rx_dbm is not None and u.rx_dbm < WEAK_RX_DBM for u in weak)
    cut = [p for p in small_town.pon_ports() if p.feeder_cut]
    assert len(cut) == 1
    lost = [u for u in cut[0].onus if u.state == "los"]
    assert len(lost) > len(cut[0].onus) / 2
    assert all(u.last_down_cause == "losi" for u in lost)
    for u in onus:
        if u.online:
            assert u.rx_dbm is not None and u.olt_rx_dbm is not None and u.distance_m is not None
            assert 300 <= u.distance_m <= 20000
            if not u.weak:
                assert -26.5 <= u.rx_dbm <= -15.0
        else:
            assert (u.rx_dbm, u.tx_dbm, u.olt_rx_dbm, u.distance_m, u.temperature_c) == (None,) * 5
            assert u.last_down_cause == ("dying_gasp" if u.state == "dying_gasp" else u.last_down_cause)
    # a few Huawei ONUs are down on purpose (deactivated, optics shut), never a ZTE one (its tables cannot say so)
    deliberate = [u for u in onus if u.state == "deactivated"]
    assert deliberate and {u.last_down_cause for u in deliberate} <= {"deactivated", "optics_shutdown"}
    assert all(small_town.olt(u.olt).vendor == "huawei" for u in deliberate)
    for olt in small_town.olts:
        assert all(35 <= u.temperature_c <= 55 for u in olt.onus() if u.temperature_c is not None)
        if olt.vendor == "zte":  # some weak ZTE lines are below -30 dBm (sent as unsigned 16-bit values)
            assert all(u.rx_dbm >= -33.5 for u in olt.onus() if u.rx_dbm is not None)


def test_rates_are_configurable() -> None:
    calm = generate_town(onus=300, rates=FaultRates(weak=0, dying_gasp=0, los=0, feeder_cut_ports=0, deliberate=0))
    assert all(u.online and not u.weak for u in calm.onus())


def test_values_round_trip_through_the_encoding(small_town: Town) -> None:
    """Decoding the raw integer an agent serves gives the model's value back."""
    for olt in small_town.olts:
        for u in olt.onus():
            if u.rx_dbm is None or u.olt_rx_dbm is None:
                continue
            if olt.vendor == "huawei":
                assert huawei_dbm_raw(u.rx_dbm) / 100 == pytest.approx(u.rx_dbm, abs=1e-9)
                assert (huawei_olt_rx_raw(u.olt_rx_dbm) - 10000) / 100 == pytest.approx(
                    u.olt_rx_dbm, abs=1e-9
                )
                assert u.tx_dbm is not None
                assert huawei_dbm_raw(u.tx_dbm) / 100 == pytest.approx(u.tx_dbm, abs=1e-9)
            else:
                signed = zte_rx_raw(u.rx_dbm) - (65536 if zte_rx_raw(u.rx_dbm) >= 32768 else 0)
                assert signed * 0.002 - 30 == pytest.approx(u.rx_dbm, abs=1e-9)
                assert u.tx_dbm is not None and zte_rx_raw(u.tx_dbm) * 0.002 - 30 == pytest.approx(u.tx_dbm, abs=1e-9)
                assert zte_olt_rx_raw(u.olt_rx_dbm) / 1000 == pytest.approx(u.olt_rx_dbm, abs=1e-9)


def test_inventory_document_is_consistent(small_town: Town) -> None:
    doc = small_town.inventory_document()
    assert set(doc) == {
        "districts", "olts", "pon_ports", "splitters", "onus", "households", "household_contacts", "schools",
        "tablets", "bwa_stations", "vpn_gateways",
    }  # fmt: skip
    olts = {o["name"]: o for o in doc["olts"]}
    ports = {(p["olt"], p["port"]) for p in doc["pon_ports"]}
    households = {h["code"] for h in doc["households"]}
    assert {o["vendor"] for o in olts.values()} == {"huawei", "zte"}
    assert {o["pon_class"] for o in olts.values()} == {"B+", "C+"}
    for o in olts.values():
        assert re.fullmatch(r"127\.0\.0\.1:\d+", o["address"])
        assert o["modules"] == ["if_mib", "huawei_gpon" if o["vendor"] == "huawei" else "zte_gpon"]
    splitters = {s["name"]: s for s in doc["splitters"]}
    for u in doc["onus"]:
        assert (u["olt"], u["pon_port"]) in ports
        assert u["household"] in households
        drop = splitters[u["splitter"]]  # every ONU hangs off a second-stage splitter of its own port
        assert (drop["olt"], drop["pon_port"], drop["stage"]) == (u["olt"], u["pon_port"], 2)
    fed = collections.Counter(u["splitter"] for u in doc["onus"]) + collections.Counter(
        s["parent"] for s in splitters.values() if s["parent"])
    assert all(n <= splitters[name]["ratio"] for name, n in fed.items())  # 1:4 then 1:8
    assert {(s["stage"], s["ratio"]) for s in splitters.values()} == {(1, 4), (2, 8)}
    schools = {s["code"] for s in doc["schools"]}
    assert all(t["school"] in schools for t in doc["tablets"])
    assert len(doc["onus"]) == 600


def test_poller_config_validates(small_town: Town) -> None:
    cfg = Config.model_validate(small_town.poller_config())
    assert [t.name for t in cfg.targets] == [d.name for d in small_town.devices()]
    assert cfg.auths["olt_v3"].auth_protocol == "SHA256" and cfg.auths["olt_v3"].priv_protocol == "AES256"
    assert cfg.auths["olt_v3_aes128"].priv_protocol == "AES"
    assert cfg.interval_seconds == 60
    assert {t.max_repetitions for t in cfg.targets} == {25}


def test_with_addresses(small_town: Town) -> None:
    moved = small_town.with_addresses({"oasa-olt1": "127.0.0.1:40000"})
    assert moved.olt("oasa-olt1").address == "127.0.0.1:40000"
    assert moved.olt("chiyoda-olt1").address == small_town.olt("chiyoda-olt1").address
    assert small_town.olt("oasa-olt1").address != "127.0.0.1:40000"


def test_district_households_are_configuration() -> None:
    districts = [DistrictSpec(d.code, d.name, 1000) for d in DEFAULT_DISTRICTS]
    town = generate_town(onus=2000, districts=districts)
    assert town.onus_by_district() == {d.code: 500 for d in DEFAULT_DISTRICTS}
    with pytest.raises(ValueError, match="households"):
        generate_town(onus=5000, districts=districts)


def test_full_default_town() -> None:
    town = generate_town()
    assert sum(d.households for d in town.districts) == 7728
    assert sum(town.onus_by_district().values()) == 7000
    assert sum(1 for h in town.households if h.status == "active") == 7000
    assert len(town.households) > 7000
    for p in town.pon_ports():
        assert len(p.onus) <= MAX_ONUS_PER_PORT
    used = [len(p.onus) for p in town.pon_ports() if p.onus]
    assert min(used) >= 20 and max(used) <= 64
    assert len(set(used)) > 20  # uneven fill
