"""The town's other networks: the regional BWA (地域BWA) base stations, in the districts the fibre reaches
last, and the town office's telework VPN gateways (an ASA and a FortiGate), whose sessions follow the
staff's working day (``simulator.variation.telework``, computed when the agent answers).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from simulator.devices import BwaCell, BwaStation, IpsecTunnel, VpnGateway
from simulator.generate.draws import ethernet, stream
from simulator.specs import VPN_BRANCH_TUNNELS, VPN_GROUPS, VPN_PROTOCOLS, BwaSpec, FaultRates, VpnSpec

#: a 20 MHz TD-LTE carrier in the BWA band, config 2: what a full cell carries (kbit/s)
BWA_DL_CAPACITY_KBPS = 95_000
BWA_UL_CAPACITY_KBPS = 20_000


def make_bwa_stations(
    seed: int, specs: Sequence[BwaSpec], rates: FaultRates, host: str, base_port: int
) -> list[BwaStation]:
    """1–2 cells (carriers) a station, numbered from 1 as the eNB instances them; UEs, throughput and PRB
    use drawn per cell, PRB use following throughput. ``rates.bwa_stations_down`` stations are out of
    service (RF off, no UEs, no success rates) while their S1 link stays up."""
    drafts: list[tuple[BwaSpec, list[BwaCell], random.Random]] = []
    for spec in specs:
        rng = stream(seed, "bwa", spec.name)
        cells: list[BwaCell] = []
        for i in range(1, rng.randint(1, 2) + 1):
            ues = rng.randint(4, 48)
            dl = min(BWA_DL_CAPACITY_KBPS, ues * rng.randint(300, 1800))
            ul = min(BWA_UL_CAPACITY_KBPS, round(dl * rng.uniform(0.12, 0.25)))
            cells.append(BwaCell(
                index=i, connected_ues=ues, dl_kbps=dl, ul_kbps=ul,
                dl_prb_pct=min(98, round(100 * dl / BWA_DL_CAPACITY_KBPS + rng.uniform(5, 15))),
                ul_prb_pct=min(98, round(100 * ul / BWA_UL_CAPACITY_KBPS + rng.uniform(3, 10))),
            ))  # fmt: skip
        drafts.append((spec, cells, rng))
    down = set(stream(seed, "bwa-faults").sample(range(len(drafts)), min(rates.bwa_stations_down, len(drafts))))
    stations: list[BwaStation] = []
    for n, (spec, cells, rng) in enumerate(drafts):
        rrc, erab = rng.randint(97, 100), rng.randint(98, 100)
        if n in down:
            cells = [BwaCell(c.index, 0, 0, 0, 0, 0) for c in cells]
        dl_bytes = sum(c.dl_kbps for c in cells) * 1000 / 8
        ul_bytes = sum(c.ul_kbps for c in cells) * 1000 / 8
        stations.append(BwaStation(
            name=spec.name, district=spec.district, model=spec.model, auth=spec.auth,
            address=f"{host}:{base_port + n}",
            sys_descr=f"Baicells {spec.model} eNB BaiBS_RTS_3.7.5 (simulated)",
            sys_object_id="1.3.6.1.4.1.53058", uptime_ticks=rng.randrange(100 * 86400 * 3, 100 * 86400 * 200),
            s1_up=True, in_service=n not in down, rf_on=n not in down,
            rrc_success_pct=None if n in down else rrc, erab_success_pct=None if n in down else erab,
            cells=tuple(cells),
            # what the subscribers download enters the station from the backhaul
            uplinks=(ethernet(rng, 1, "eth0", "eth0", f"{spec.name} backhaul", 1_000_000_000, dl_bytes, ul_bytes),),
        ))  # fmt: skip
    return stations


#: what each vendor's simulated gateway says about itself (sysObjectID as the LibreNMS peer walks have them)
#: and how its interfaces are named and described (ifDescr as the ASA's own: "Adaptive Security Appliance
#: 'outside' interface"; a FortiGate's ifDescr is the interface name)
VPN_IDENTITY: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "cisco_asa": ("Cisco Adaptive Security Appliance Version 9.16(4) (simulated)", "1.3.6.1.4.1.9.1.2404",
                  ("outside", "inside", "management"), "Adaptive Security Appliance '{}' interface"),
    "fortigate": ("FortiGate-100F v7.2.8 (simulated)", "1.3.6.1.4.1.12356.15", ("wan1", "internal", "ssl.root"),
                  "{}"),
}


def make_vpn_gateways(seed: int, specs: Sequence[VpnSpec], staff: int, host: str, base_port: int) -> list[VpnGateway]:
    """The town office's gateways; each carries ``staff_share`` of the staff (rounded, the last one takes
    the rest, so that the gateways' staff add up to the town's)."""
    gateways: list[VpnGateway] = []
    left = staff
    for n, spec in enumerate(specs):
        rng = stream(seed, "vpn", spec.name)
        own = left if n == len(specs) - 1 else min(left, round(staff * spec.staff_share))
        left -= own
        descr, object_id, ifnames, if_descr = VPN_IDENTITY[spec.vendor]
        asa = spec.vendor == "cisco_asa"
        gateways.append(VpnGateway(
            name=spec.name, vendor=spec.vendor, model=spec.model, auth=spec.auth, address=f"{host}:{base_port + n}",
            sys_descr=descr, sys_object_id=object_id,
            uptime_ticks=rng.randrange(100 * 86400 * 3, 100 * 86400 * 200),
            licence_sessions=spec.licence_sessions, staff=own, telework_share=spec.telework_share,
            groups=VPN_GROUPS if asa else (), protocols=VPN_PROTOCOLS[spec.vendor],
            tunnels=tuple(IpsecTunnel(index, peer, True) for index, peer in
                          zip(sorted(rng.sample(range(1000, 60000), len(VPN_BRANCH_TUNNELS))), VPN_BRANCH_TUNNELS,
                              strict=True)) if asa else (),
            uplinks=tuple(
                ethernet(rng, i + 1, name, if_descr.format(name), name,
                          1_000_000_000, rng.uniform(2e5, 2e6), rng.uniform(2e5, 2e6))
                for i, name in enumerate(ifnames)
            ),
        ))  # fmt: skip
    return gateways
