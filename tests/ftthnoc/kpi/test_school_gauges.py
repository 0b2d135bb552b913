"""The schools' figures as gauges (``KpiRecorder.families``): tablets and tablets seen per school, MEXT's
recommended bandwidth, and the uplink mapping PromQL joins the router's if_mib series with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from ftthnoc.catalogue import CATALOGUE
from ftthnoc.geo import DISTRICT_INFO
from ftthnoc.kpi.families import FAMILY_NAMES
from ftthnoc.kpi.figures import mext_mbps
from ftthnoc.kpi.recorder import ROUTER_ARP_ENTRY, KpiRecorder
from ftthnoc.samples import MetricFamily
from tests.ftthnoc.kpi.conftest import inventory

NOW = datetime(2026, 11, 26, 1, 30, tzinfo=UTC)  # 10:30 JST, a school day


def mac(n: int) -> str:
    return f"02:00:00:00:00:{n:02x}"


def tablet(school: str, n: int, status: str = "active") -> dict[str, object]:
    return {"school": school, "asset_no": f"T-{n:03d}", "serial": f"S{n}", "mac": mac(n), "os": "ChromeOS",
            "grade": 1, "class_name": "1-1", "status": status}


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return inventory(tmp_path, {
            "districts": [{"code": "chiyoda", "name": "千代田", "households": 8}],
            "schools": [
                {"code": "es-1", "name": "一小", "district": "chiyoda", "pupils": 250,
                 "uplink_target": "es-1-rtx", "uplink_interface": "LAN2"},
                {"code": "es-2", "name": "二小", "district": "chiyoda", "pupils": 40},
            ],
            "tablets": [tablet("es-1", 1), tablet("es-1", 2), tablet("es-1", 3), tablet("es-1", 4, "retired"),
                        tablet("es-2", 5)],
        })  # fmt: skip


def values(families: list[MetricFamily]) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    return {f.name: {tuple(sorted(s.labels.items())): s.value for s in f.samples} for f in families}


def arp(device: str, *macs: str) -> MetricFamily:
    fam = MetricFamily(ROUTER_ARP_ENTRY, "ARP", "info")
    for k, m in enumerate(macs):
        fam.add({"device": device, "if_index": "1", "ip": f"10.128.0.{16 + k}", "mac": m}, 1.0)
    return fam


def test_gauges_from_the_start_and_after_the_router_saw_tablets(engine: Engine) -> None:
    recorder = KpiRecorder(engine, 60.0, gauges_seconds=0.0)
    got = values(recorder.families())
    assert set(got) == set(FAMILY_NAMES) | {DISTRICT_INFO}  # and the map point of the one district
    assert got["ftthnoc_school_tablets"] == {(("school", "es-1"),): 3.0, (("school", "es-2"),): 1.0}  # active only
    assert set(got["ftthnoc_school_tablets_seen"].values()) == {0.0}
    assert got["ftthnoc_school_uplink_recommended_bytes_per_second"] == {
        (("school", "es-1"),): mext_mbps(250) * 1e6 / 8, (("school", "es-2"),): 108e6 / 8}
    # es-2 has no uplink in the inventory: no mapping
    assert got["ftthnoc_school_uplink_info"] == {
        (("device", "es-1-rtx"), ("interface", "LAN2"), ("school", "es-1")): 1.0}

    # the router's ARP table lists T-001, T-002 (and es-2's T-005, not this router's school's)
    recorder.record_poll("es-1-rtx", [arp("es-1-rtx", mac(1), mac(2), mac(5))], NOW)
    seen = values(recorder.families())["ftthnoc_school_tablets_seen"]
    assert seen == {(("period", "24h"), ("school", "es-1")): 2.0, (("period", "7d"), ("school", "es-1")): 2.0,
                    (("period", "24h"), ("school", "es-2")): 0.0, (("period", "7d"), ("school", "es-2")): 0.0}
    # two days on, with nothing seen since: gone from the day's count, still in the week's
    recorder.record_poll("es-1-rtx", [], NOW + timedelta(days=2))
    seen = values(recorder.families())["ftthnoc_school_tablets_seen"]
    assert seen[(("period", "24h"), ("school", "es-1"))] == 0.0
    assert seen[(("period", "7d"), ("school", "es-1"))] == 2.0


def test_figures_are_read_again_only_every_gauges_seconds(engine: Engine) -> None:
    recorder = KpiRecorder(engine, 60.0, gauges_seconds=3600.0)
    recorder.record_poll("es-1-rtx", [arp("es-1-rtx", mac(1))], NOW)
    # recorded in the database, but the gauges read at start are kept for an hour (no SQL per poll)
    assert set(values(recorder.families())["ftthnoc_school_tablets_seen"].values()) == {0.0}


def test_gauges_are_catalogued_with_identity_labels_only(engine: Engine) -> None:
    catalogued = {e.name: e for e in CATALOGUE}
    for fam in KpiRecorder(engine, 60.0).families():
        entry = catalogued[fam.name]
        assert entry.type == fam.type
        for s in fam.samples:
            assert set(s.labels) == set(entry.labels), fam.name
            assert "一小" not in s.labels.values()  # codes, never a school's name
