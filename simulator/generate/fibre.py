"""The fibre network: each OLT's chassis and PON ports, its ONUs' identities, which ONUs are down (a cut
feeder, dying gasps, losses of signal) or weak, and every reading the OLT reports.

Built in steps that ``generate_town`` runs in order: ``lay_out`` (ports and serial numbers, drafts the
household step fills in), ``draw_faults``, then ``build_olts`` (optics, counters, the frozen ``Olt``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from simulator.devices import DownCause, Interface, Olt, Onu, OnuState, PonClass, PonPort, Vendor
from simulator.generate.draws import largest_remainder, quantise, stream
from simulator.specs import MODELS, TOWN_CLOCK, DistrictSpec, FaultRates, OltSpec
from simulator.vendors import olt_profile

#: ONUs per PON port: a 1:64 split is the most a GPON port takes here.
MAX_ONUS_PER_PORT = 64
PORTS_PER_BOARD = 16
#: (frame, slot, port, F/S/P) of each PON port of an OLT
PortLayout = list[tuple[int, int, int, str]]


def fill_ports(n: int, capacity: int, rng: random.Random, lo: int, hi: int) -> list[int]:
    """ONUs per used port, uneven (``lo``..``hi``), packed denser only if the chassis would overflow."""
    if n > capacity * MAX_ONUS_PER_PORT:
        raise ValueError(f"{n} ONUs do not fit {capacity} PON ports of {MAX_ONUS_PER_PORT}")
    counts: list[int] = []
    remaining = n
    while remaining > 0:
        ports_left = capacity - len(counts)
        need = math.ceil(remaining / ports_left)
        k_lo = max(lo, need)
        k_hi = min(MAX_ONUS_PER_PORT, max(hi, k_lo))
        k = min(rng.randint(k_lo, k_hi), remaining)
        if 0 < remaining - k < lo:  # no stub port at the end: take it all, or leave a full-size rest
            k2 = remaining if remaining <= MAX_ONUS_PER_PORT else remaining - lo
            if remaining - k2 <= MAX_ONUS_PER_PORT * (ports_left - 1):
                k = k2
        counts.append(k)
        remaining -= k
    return counts


@dataclass
class OnuDraft:
    """An ONU before its readings are drawn: identity, household and state, filled in step by step."""

    olt: str
    vendor: Vendor
    pon_class: PonClass
    pon_port: str
    onu_id: int
    serial: str
    household: str = ""
    state: OnuState = "online"
    weak: bool = False
    feeder_cut: bool = False
    #: why a ``deactivated`` ONU is down (the operator deactivated it, or shut its optics)
    down_cause: DownCause | None = None


def lay_out(
    seed: int,
    districts: Sequence[DistrictSpec],
    olts: Sequence[OltSpec],
    onus_per_district: Sequence[int],
    onus_per_port: tuple[int, int],
) -> tuple[dict[str, list[list[OnuDraft]]], dict[str, PortLayout]]:
    """Ports and ONU identities: ``(drafts per OLT and port, port layout per OLT)``. Serial numbers are
    unique over the whole town, so the OLTs are laid out in a fixed order (district, then OLT)."""
    serials: set[str] = set()
    drafts_by_olt: dict[str, list[list[OnuDraft]]] = {}
    port_layout: dict[str, PortLayout] = {}  # olt -> (frame, slot, port, F/S/P)
    for d, n_d in zip(districts, onus_per_district, strict=True):
        specs = [s for s in olts if s.district == d.code]
        for spec, n in zip(specs, largest_remainder(n_d, [s.weight for s in specs]), strict=True):
            model = MODELS[spec.model]
            profile = olt_profile(model.vendor)
            prefix, first_id = profile.serial_prefix, profile.first_ont_id  # the vendor pack's facts
            rng = stream(seed, "ports", spec.name)
            capacity = len(model.service_slots) * PORTS_PER_BOARD
            counts = fill_ports(n, capacity, rng, *onus_per_port)
            boards = max(1, math.ceil(len(counts) / PORTS_PER_BOARD))
            layout: PortLayout = [profile.port(slot, p) for slot in model.service_slots[:boards]
                                  for p in range(PORTS_PER_BOARD)]
            port_layout[spec.name] = layout
            ports: list[list[OnuDraft]] = []
            for i, (_f, _s, _p, fsp) in enumerate(layout):
                k = counts[i] if i < len(counts) else 0
                onu_id = first_id
                drafts: list[OnuDraft] = []
                for _ in range(k):
                    while True:
                        serial = f"{prefix}{rng.getrandbits(32):08X}"
                        if serial not in serials:
                            serials.add(serial)
                            break
                    drafts.append(OnuDraft(spec.name, model.vendor, spec.pon_class, fsp, onu_id, serial))
                    onu_id += 2 if rng.random() < 0.05 else 1  # a deleted ONT leaves a gap
                ports.append(drafts)
            drafts_by_olt[spec.name] = ports
    return drafts_by_olt, port_layout


def draw_faults(seed: int, drafts_by_olt: dict[str, list[list[OnuDraft]]], rates: FaultRates) -> None:
    """Mark the drafts that are down or weak: the cut feeders' ports first, then, outside them, dying
    gasps, losses of signal and weak ONUs (each from the ONUs still online and not weak)."""
    frng = stream(seed, "faults")
    all_ports = [(name, i) for name, ports in drafts_by_olt.items() for i, _ in enumerate(ports)]
    candidates = [(n, i) for n, i in all_ports if len(drafts_by_olt[n][i]) >= 8]
    cut = set(frng.sample(candidates, min(rates.feeder_cut_ports, len(candidates))))
    ordinary: list[OnuDraft] = []
    for name, i in all_ports:
        port_drafts = drafts_by_olt[name][i]
        if (name, i) in cut:
            lost = max(1, round(len(port_drafts) * rates.feeder_cut_share))
            for dr in frng.sample(port_drafts, lost):
                dr.state, dr.feeder_cut = "los", True
        else:
            ordinary.extend(port_drafts)

    def pick(rate: float) -> list[OnuDraft]:
        pool = [dr for dr in ordinary if dr.state == "online" and not dr.weak]
        n = min(len(pool), max(1, round(rate * len(ordinary)))) if rate > 0 else 0
        return frng.sample(pool, n)

    for dr in pick(rates.dying_gasp):
        dr.state = "dying_gasp"
    for dr in pick(rates.los):
        dr.state = "los"
    for dr in pick(rates.weak):
        dr.weak = True
    # last, so that the draws above stay as they were: a few ONUs down on purpose, of the vendors whose
    # tables name such a cause (Huawei's)
    named = [dr for dr in ordinary if olt_profile(dr.vendor).reports_deactivated]
    pool = [dr for dr in named if dr.state == "online" and not dr.weak]
    n = min(len(pool), max(1, round(rates.deliberate * len(named)))) if rates.deliberate > 0 and pool else 0
    for k, dr in enumerate(frng.sample(pool, n)):
        dr.state, dr.down_cause = "deactivated", ("deactivated", "optics_shutdown")[k % 2]


def build_olts(
    seed: int,
    olts: Sequence[OltSpec],
    port_layout: dict[str, PortLayout],
    drafts_by_olt: dict[str, list[list[OnuDraft]]],
    rates: FaultRates,
    host: str,
    base_port: int,
) -> list[Olt]:
    """Optics and the frozen model: each port's transceiver and counters, each ONU's readings, the
    uplinks carrying what the ports carry; OLT ``i`` gets the placeholder address ``host:base_port+i``."""
    olt_objs: list[Olt] = []
    for n_olt, spec in enumerate(olts):
        model = MODELS[spec.model]
        profile = olt_profile(model.vendor)
        orng = stream(seed, "optics", spec.name)
        trng = stream(seed, "times", spec.name)  # a stream of its own: the optics stay as they were
        pon_ports: list[PonPort] = []
        for (frame, slot, port, fsp), drafts in zip(
            port_layout[spec.name], drafts_by_olt[spec.name], strict=True
        ):
            port_tx = quantise(orng.uniform(3.0, 5.0) if spec.pon_class == "B+" else orng.uniform(5.0, 7.0), 0.01)
            onu_objs = [make_onu(dr, port_tx, rates.history, orng) for dr in drafts]
            if profile.reports_history:
                onu_objs = with_history(onu_objs, drafts, trng)
            if_index, pon_index = profile.pon_indexes(frame, slot, port)
            online = sum(1 for u in onu_objs if u.online)
            per_home = orng.uniform(1.5e5, 4.0e5)  # bytes/s downstream per online home, evening average
            out_rate = round(online * per_home, 1)
            in_rate = round(out_rate * orng.uniform(0.15, 0.3), 1)
            iface = Interface(
                if_index=if_index,
                name=profile.pon_if_name.format(fsp=fsp, gpon_if_descr=model.gpon_if_descr),
                descr=profile.pon_if_descr.format(fsp=fsp, gpon_if_descr=model.gpon_if_descr),
                if_type=250,
                speed_bps=2_488_320_000,
                mtu=profile.pon_mtu,
                oper_up=online > 0,
                alias=f"{spec.district} feeder {fsp}" if drafts else "",
                in_octets=orng.randrange(10**9, 10**12) if drafts else 0,
                out_octets=orng.randrange(10**10, 10**13) if drafts else 0,
                in_rate=in_rate,
                out_rate=out_rate,
                in_ucast=orng.randrange(10**6, 10**9) if drafts else 0,
                out_ucast=orng.randrange(10**7, 10**10) if drafts else 0,
                in_errors=orng.randrange(0, 50) if drafts else 0,
                out_errors=0,
                in_discards=orng.randrange(0, 20) if drafts else 0,
                out_discards=orng.randrange(0, 5) if drafts else 0,
            )
            pon_ports.append(
                PonPort(
                    olt=spec.name,
                    name=fsp,
                    frame=frame,
                    slot=slot,
                    port=port,
                    pon_index=pon_index,
                    interface=iface,
                    onus=tuple(onu_objs),
                    feeder_cut=any(dr.feeder_cut for dr in drafts),
                    temperature_c=orng.randint(30, 45),
                    voltage_v=quantise(orng.uniform(3.2, 3.35), 0.01),
                    bias_ma=orng.randint(18, 45),
                    tx_dbm=port_tx,
                )
            )
        total_out = sum(p.interface.out_rate for p in pon_ports)
        total_in = sum(p.interface.in_rate for p in pon_ports)
        uplinks: list[Interface] = []
        for k, (slot, port) in enumerate(model.uplinks):
            share = 0.6 if k == 0 else 0.4
            name = profile.uplink_name.format(slot=slot, port=port)
            uplinks.append(
                Interface(
                    if_index=profile.uplink_index(slot, port),
                    name=name,
                    descr=profile.uplink_descr.format(name=name, model=spec.model),
                    if_type=6,
                    speed_bps=10_000_000_000,
                    mtu=1500,
                    oper_up=True,
                    alias=f"{spec.name} uplink {k + 1}",
                    in_octets=orng.randrange(10**12, 10**14),
                    out_octets=orng.randrange(10**11, 10**13),
                    in_rate=round(total_out * share, 1),  # what the homes download enters the uplink
                    out_rate=round(total_in * share, 1),
                    in_ucast=orng.randrange(10**9, 10**11),
                    out_ucast=orng.randrange(10**9, 10**11),
                    in_errors=orng.randrange(0, 10),
                    out_errors=0,
                    in_discards=orng.randrange(0, 100),
                    out_discards=orng.randrange(0, 100),
                )
            )
        olt_objs.append(
            Olt(
                name=spec.name,
                district=spec.district,
                vendor=model.vendor,
                model=spec.model,
                pon_class=spec.pon_class,
                auth=spec.auth,
                address=f"{host}:{base_port + n_olt}",
                sys_descr=model.sys_descr,
                sys_object_id=model.sys_object_id,
                uptime_ticks=orng.randrange(100 * 86400 * 3, 100 * 86400 * 400),
                uplinks=tuple(uplinks),
                pon_ports=tuple(pon_ports),
            )
        )
    return olt_objs


DAY = 86400


def with_history(onus: Sequence[Onu], drafts: Sequence[OnuDraft], rng: random.Random,
                 clock: int = TOWN_CLOCK) -> list[Onu]:
    """ONUs with what Huawei's version and control tables add (``OltProfile.reports_history``): model and
    firmware, and the last up, down and dying-gasp times before ``clock``. The ONUs of a cut feeder went
    down within seconds of each other; an ONU down now came up last before it went down; one that went
    down before came back since."""
    cut_at = clock - rng.randrange(600, 3 * 3600)
    out: list[Onu] = []
    for u, dr in zip(onus, drafts, strict=True):
        model, firmware = olt_profile(dr.vendor).ont_model(u.serial)
        if not u.online:
            down = cut_at + rng.randrange(0, 5) if dr.feeder_cut else clock - rng.randrange(600, 3 * DAY)
            up: int | None = down - rng.randrange(DAY, 200 * DAY)
        elif u.last_down_cause is not None:
            down = clock - rng.randrange(3600, 60 * DAY)
            up = down + rng.randrange(60, 8 * 3600)
        else:
            down, up = 0, clock - rng.randrange(DAY, 300 * DAY)
        gasp = down if u.last_down_cause == "dying_gasp" else None
        out.append(replace(u, model=model, firmware=firmware, last_up_at=up, last_down_at=down or None,
                           last_dying_gasp_at=gasp))
    return out


def make_onu(dr: OnuDraft, port_tx: float, history_rate: float, rng: random.Random) -> Onu:
    """Draw one ONU's readings. The draws happen for offline ONUs too, so that a fault does not shift
    the random stream of the ONUs after it."""
    distance = int(rng.triangular(300, 20000, 4000))
    base = -22.0 if dr.pon_class == "B+" else -23.5
    rx = base - 0.12 * (distance / 1000 - 8) + rng.gauss(0, 0.9)
    rx = min(-15.0, max(-26.5, rx))
    profile = olt_profile(dr.vendor)
    if dr.weak:
        rx = rng.uniform(*profile.weak_rx_dbm)
    tx = min(4.5, max(0.8, rng.gauss(2.5, 0.4)))
    upstream_loss = (port_tx - rx) + rng.gauss(0.5, 0.3)
    olt_rx = quantise(tx - upstream_loss, 0.01)
    temperature = rng.randint(35, 55)
    history = rng.random() < history_rate
    past_cause = rng.choices(profile.history_causes, profile.history_weights)[0]
    los_cause: DownCause = "losi" if dr.feeder_cut else rng.choice(("los", "losi"))

    rx_q = quantise(rx, profile.optics_step_db)
    if dr.state != "online":
        cause: DownCause = ("dying_gasp" if dr.state == "dying_gasp" else dr.down_cause
                            if dr.state == "deactivated" and dr.down_cause else los_cause)
        return Onu(dr.serial, dr.olt, dr.pon_port, dr.onu_id, dr.household, dr.state, cause,
                   None, None, None, None, None)  # fmt: skip
    return Onu(
        serial=dr.serial,
        olt=dr.olt,
        pon_port=dr.pon_port,
        onu_id=dr.onu_id,
        household=dr.household,
        state="online",
        last_down_cause=past_cause if history else None,
        rx_dbm=rx_q,
        tx_dbm=quantise(tx, profile.optics_step_db),
        olt_rx_dbm=olt_rx,
        distance_m=distance,
        temperature_c=temperature,
    )
