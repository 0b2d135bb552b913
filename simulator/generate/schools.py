"""The GIGA schools: schools spread over the districts, one tablet per pupil, and (on request) each
school's router as an SNMP device: its uplink's counters moving at a rate near the school's MEXT
recommended bandwidth, and its ARP table listing the school's tablets that are online (a deterministic
70–90 % of them).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from typing import Literal

from ftthnoc.kpi.figures import mext_mbps
from simulator.devices import ROUTER_UPLINK, ArpEntry, SchoolRouter
from simulator.generate.draws import ethernet, largest_remainder, stream
from simulator.people import School, Tablet
from simulator.specs import V2_AUTH_NAME, DistrictSpec

#: a Yamaha RTX1220's identity (the model most Japanese schools' GIGA routers are, or its kin)
ROUTER_MODEL = "RTX1220"
ROUTER_SYS_DESCR = "RTX1220 Rev.15.04.24 (Fri Jun 16 11:12:21 2023) (simulated)"
ROUTER_SYS_OBJECT_ID = "1.3.6.1.4.1.1182.1"
#: the router's name suffix (its interface towards the town's network is ``devices.ROUTER_UPLINK``)
ROUTER_SUFFIX = "-rtx"
#: the uplink's peak as a share of the school's MEXT recommended bandwidth: some schools meet it, some not
ROUTER_PEAK_SHARE = (0.4, 1.2)
#: the share of a school's tablets online (in its router's ARP table) at any time
TABLETS_ONLINE_SHARE = (0.7, 0.9)
#: the school LAN (``LAN1``, ifIndex 1) the tablets are on
ROUTER_LAN_IF_INDEX = 1
#: the first address a tablet gets on its school's LAN (below: the router, printers, staff PCs)
ROUTER_LAN_FIRST_TABLET = 16


def router_lan_network(n: int) -> ipaddress.IPv4Network:
    """The LAN of the ``n``-th school (0 first): a /21 in 10.128.0.0/9 (2,046 hosts, room for the largest
    school). The simulated SSH router's DHCP scope (``simulator.cli.town``, 10.64.n.0/24) is a separate
    toy: it admits enrolled tablets, it is not where this ARP table's tablets live."""
    if not 0 <= n < 4096:
        raise ValueError(f"no simulated school LAN for school number {n}")
    return ipaddress.IPv4Network((0x0A800000 + n * 2048, 21))


def router_arp(seed: int, n: int, school: str, tablets: Sequence[Tablet]) -> tuple[ArpEntry, ...]:
    """The ARP table of the ``n``-th school's router: a deterministic 70–90 % of its tablets, each at a
    fixed address on the school LAN (its position in the school's tablet list), sorted by address."""
    rng = stream(seed, "school-router-arp", school)
    share = rng.uniform(*TABLETS_ONLINE_SHARE)
    online = sorted(rng.sample(range(len(tablets)), round(share * len(tablets))))
    net = router_lan_network(n)
    if len(tablets) + ROUTER_LAN_FIRST_TABLET >= net.num_addresses - 1:
        raise ValueError(f"school {school}: {len(tablets)} tablets do not fit its simulated LAN {net}")
    return tuple(ArpEntry(ROUTER_LAN_IF_INDEX, str(net[ROUTER_LAN_FIRST_TABLET + k]), tablets[k].mac)
                 for k in online)


def router_name(school: str) -> str:
    """The SNMP target name of a school's router: ``SCH-01`` -> ``sch-01-rtx``."""
    return f"{school.lower()}{ROUTER_SUFFIX}"


def make_school_routers(seed: int, schools: Sequence[School], tablets: Sequence[Tablet], host: str,
                         base_port: int) -> list[SchoolRouter]:
    """One router per school. The uplink's busier direction (downloads, in) runs at 40–120 % of the
    school's MEXT target; the school LAN carries the same traffic the other way round. Its ARP table
    lists the school's online tablets (``router_arp``, from its own random stream)."""
    routers: list[SchoolRouter] = []
    by_school: dict[str, list[Tablet]] = {}
    for t in tablets:
        by_school.setdefault(t.school, []).append(t)
    for n, school in enumerate(schools):
        rng = stream(seed, "school-router", school.code)
        down = mext_mbps(school.pupils) * rng.uniform(*ROUTER_PEAK_SHARE) * 1e6 / 8  # bytes/s
        up = down * rng.uniform(0.1, 0.3)
        name = router_name(school.code)
        lan = (
            ethernet(rng, 1, "LAN1", "LAN1", f"{school.code} school LAN", 1_000_000_000, up, down * 0.98),
            ethernet(rng, 2, ROUTER_UPLINK, ROUTER_UPLINK, f"{school.code} uplink", 1_000_000_000, down, up),
        )
        routers.append(SchoolRouter(
            name=name, school=school.code, district=school.district, model=ROUTER_MODEL, auth=V2_AUTH_NAME,
            address=f"{host}:{base_port + n}", sys_descr=ROUTER_SYS_DESCR, sys_object_id=ROUTER_SYS_OBJECT_ID,
            uptime_ticks=rng.randrange(100 * 86400 * 3, 100 * 86400 * 300), lan=lan,
            arp=router_arp(seed, n, school.code, by_school.get(school.code, [])),
        ))  # fmt: skip
    return routers


_SCHOOL_SUFFIXES = ("", "東", "西", "南", "北")


def make_schools(
    seed: int, districts: Sequence[DistrictSpec], n: int, pupils: tuple[int, int]
) -> tuple[list[School], list[Tablet]]:
    """Schools spread over the districts by households; one tablet per pupil (GIGA school)."""
    rng = stream(seed, "schools")
    per_district = largest_remainder(n, [d.households for d in districts])
    # every district keeps a school while there are enough to go round
    for i in range(len(per_district)):
        if per_district[i] == 0 and n >= len(districts):
            j = per_district.index(max(per_district))
            per_district[j] -= 1
            per_district[i] += 1
    schools: list[School] = []
    tablets: list[Tablet] = []
    mac_counter = 0
    serials: set[str] = set()
    for d, k in zip(districts, per_district, strict=True):
        os_name = rng.choice(("ChromeOS", "ChromeOS", "iPadOS", "Windows"))
        for j in range(k):
            level: Literal["elementary", "junior_high"] = "junior_high" if j == 1 else "elementary"
            suffix = (
                _SCHOOL_SUFFIXES[j - 1] if 1 < j <= len(_SCHOOL_SUFFIXES) else (f"第{j}" if j > 1 else "")
            )
            kind = "中学校" if level == "junior_high" else "小学校"
            code = f"SCH-{len(schools) + 1:02d}"
            count = rng.randint(*pupils)
            school = School(code, f"{d.name}{suffix}{kind}", d.code, count, level)
            schools.append(school)
            grades = 3 if level == "junior_high" else 6
            per_grade = largest_remainder(count, [1.0] * grades)
            asset = 0
            for grade, in_grade in enumerate(per_grade, start=1):
                classes = max(1, math.ceil(in_grade / 35))
                for pupil in range(in_grade):
                    asset += 1
                    mac_counter += 1
                    mac_int = 0x02_4B_48_00_00_00 + mac_counter  # locally administered, unique
                    mac = ":".join(f"{(mac_int >> s) & 0xFF:02x}" for s in range(40, -8, -8))
                    while True:
                        serial = f"GIGA{rng.getrandbits(40):010X}"
                        if serial not in serials:
                            serials.add(serial)
                            break
                    tablets.append(
                        Tablet(
                            school=code,
                            asset_no=f"{code}-T{asset:04d}",
                            serial=serial,
                            mac=mac,
                            os=os_name,
                            grade=grade,
                            class_name=f"{grade}-{pupil % classes + 1}",
                        )
                    )
    return schools, tablets
