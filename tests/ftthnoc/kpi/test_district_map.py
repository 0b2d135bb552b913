"""The map's points: the exporter serves each district's coordinates (Grafana's Geomap reads them), from
the gazetteer in ``ftthnoc.geo``, for the districts the inventory has; cabinets only where placed."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine

from exporters.prometheus.collector import render
from ftthnoc.catalogue import CATALOGUE
from ftthnoc.geo import CABINET_INFO, DISTRICT_CENTRES, DISTRICT_INFO, Point, district_families
from ftthnoc.kpi.recorder import KpiRecorder
from tests.ftthnoc.kpi.conftest import inventory

TOWN = ("chiyoda", "oasa", "toyohira", "geihoku")


def served(engine: Engine) -> dict[str, list[dict[str, str]]]:
    """What a scrape of the recorder's families reads: the exposition text, parsed by prometheus_client."""
    text = render(KpiRecorder(engine, 60.0, gauges_seconds=0.0).families()).decode()
    return {f.name: [s.labels for s in f.samples] for f in text_string_to_metric_families(text)}


def test_the_exporter_serves_every_districts_coordinates(tmp_path: Path) -> None:
    engine = inventory(tmp_path, {"districts": [{"code": c, "name": c, "households": 10} for c in TOWN]})
    got = served(engine)
    points = {s["district"]: (float(s["lat"]), float(s["lon"])) for s in got[DISTRICT_INFO]}
    assert set(points) == set(TOWN)
    assert points["chiyoda"] == (34.67456, 132.53844)  # the town hall, 有田1234
    for code, (lat, lon) in points.items():  # all inside Kitahiroshima's extent (34.55–34.85 N, 132.1–132.7 E)
        assert 34.55 < lat < 34.85 and 132.1 < lon < 132.7, code
    # Geihoku is the north-west, Chiyoda the south-east: the map must not draw them swapped
    assert points["geihoku"][1] < points["toyohira"][1] < points["chiyoda"][1]
    assert points["oasa"][0] > points["chiyoda"][0]
    assert CABINET_INFO not in got  # no cabinet placed in this inventory


def test_only_known_districts_and_catalogued_labels(tmp_path: Path) -> None:
    engine = inventory(tmp_path, {"districts": [{"code": "oasa", "name": "大朝", "households": 5},
                                                {"code": "elsewhere", "name": "x", "households": 5}]})
    got = served(engine)
    assert [s["district"] for s in got[DISTRICT_INFO]] == ["oasa"]  # no point invented for an unknown code
    entries = {e.name: e for e in CATALOGUE}
    fams = district_families(DISTRICT_CENTRES, {"cab-1": Point(34.7, 132.5)})
    for fam in fams:
        assert set(entries[fam.name].labels) == {k for s in fam.samples for k in s.labels}
        assert entries[fam.name].type == fam.type
    assert [s.labels["cabinet"] for s in fams[1].samples] == ["cab-1"]


def test_a_cabinet_the_inventory_places_is_served_at_its_splitters_point(tmp_path: Path) -> None:
    """The inventory sample places cabinet CAB-chiyoda-01 through its first-stage splitter only (the
    second-stage one in it has no coordinates): the cabinet's point is that splitter's."""
    from tests.ftthnoc.inventory.conftest import SAMPLE

    document = {k: v for k, v in SAMPLE.items() if k != "household_contacts"}
    got = served(inventory(tmp_path, document))
    assert got[CABINET_INFO] == [{"cabinet": "CAB-chiyoda-01", "lat": "34.68120", "lon": "132.54120"}]
