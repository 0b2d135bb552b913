"""Where the districts (and, where the inventory knows them, the splitter cabinets) are: the map's points.

The four districts are the former towns merged in 2005; a district's point is its former town hall, now the
town hall or a branch office (支所), which is where its homes cluster. Sources:

- 千代田 chiyoda: 北広島町役場, 有田1234 — 34.67456 N, 132.53844 E (the town's own office; coordinates as
  published with the town's entry in Wikipedia, from GSI 地理院地図).
- 豊平 toyohira: former 豊平町役場 (豊平支所), 戸谷1088-1 — 34.66686 N, 132.40747 E (same source).
- 大朝 oasa: former 大朝町役場 (大朝支所), 大朝2493, and 芸北 geihoku: 芸北支所, 川小田 — approximate points
  (within about 2 km) for those addresses, not yet checked against GSI 地理院地図 (maps.gsi.go.jp): enough
  for a town-scale map, and the first thing to correct if someone reads them off GSI's map.

Shipped in code so that the map needs no internet and no geocoder: the exporter serves them as
``ftthnoc_district_info{district,lat,lon}`` (Grafana's Geomap reads the labels, "coords" mode) and the web
pages draw them as inline SVG.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ftthnoc.inventory.models import Splitter
from ftthnoc.samples import MetricFamily

DISTRICT_INFO = "ftthnoc_district_info"
CABINET_INFO = "ftthnoc_cabinet_info"


@dataclass(frozen=True, slots=True)
class Point:
    lat: float
    lon: float


#: district code → its centre (see the module's docstring for each source)
DISTRICT_CENTRES: dict[str, Point] = {
    "chiyoda": Point(34.67456, 132.53844),
    "toyohira": Point(34.66686, 132.40747),
    "oasa": Point(34.7640, 132.4660),
    "geihoku": Point(34.7330, 132.3290),
}


def district_families(districts: Iterable[str], cabinets: dict[str, Point] | None = None) -> list[MetricFamily]:
    """``ftthnoc_district_info`` for each known district with a centre (value 1, coordinates as labels, six
    decimals at most), and ``ftthnoc_cabinet_info`` for each cabinet the inventory placed."""
    info = MetricFamily(DISTRICT_INFO, "A district's map point (its town hall or branch office): lat and lon "
                        "in degrees, WGS 84.", type="info")
    for code in sorted(set(districts)):
        p = DISTRICT_CENTRES.get(code)
        if p is not None:
            info.add({"district": code, "lat": f"{p.lat:.5f}", "lon": f"{p.lon:.5f}"}, 1.0)
    fams = [info]
    if cabinets:
        cab = MetricFamily(CABINET_INFO, "A splitter cabinet's map point, where the inventory has one: lat and "
                           "lon in degrees.", type="info")
        for name, p in sorted(cabinets.items()):
            cab.add({"cabinet": name, "lat": f"{p.lat:.5f}", "lon": f"{p.lon:.5f}"}, 1.0)
        fams.append(cab)
    return fams


def cabinet_points(session: Session) -> dict[str, Point]:
    """Each splitter cabinet the inventory places: the mean of its splitters' lat/lon (splitters without
    coordinates, as the simulated town's, put no cabinet on the map)."""
    rows = session.execute(
        select(Splitter.cabinet, func.avg(Splitter.lat), func.avg(Splitter.lon))
        .where(Splitter.cabinet.is_not(None), Splitter.lat.is_not(None), Splitter.lon.is_not(None))
        .group_by(Splitter.cabinet)
    )
    return {str(name): Point(float(lat), float(lon)) for name, lat, lon in rows}
