"""Faults injected into the running simulated town: a cut feeder, a power cut, a dead board or PON port, an
OLT's uplinks down, a rogue ONU, and the repair.

The demo and the incident tests need the town to *change* while it is polled. A fault rewrites the
affected OLTs' data files from the town model with some ONUs switched to LOS or dying gasp (the same
encoders as at start-up, so the vendor codes are right: Huawei cause 1/13, ZTE phase 1/4) and restarts
only those OLTs' agents, on the same ports (``TownAgents.restart``). A restarted agent starts its
``sysUpTime`` and moving counters again, as a rebooted OLT would.

Faults take only ONUs that are online when applied, so ONUs already down stay out of them (and out of
the incident they cause); ``restore`` brings a fault's ONUs back with the fault as their last down
cause. The current state of each town is kept here, per running ``TownAgents``::

    cut = cut_pon_port(agents, "chiyoda-olt1", "0/1/3")
    split = cut_splitter(agents, "chiyoda-olt1", "0/1/4", "chiyoda-olt1.0-1-4.2-2")
    gasp = power_cut(agents, "oasa", 0.3)
    few = power_cut_at(agents, [("oasa-olt1", "0/1/0", 3), ("chiyoda-olt2", "1/1/2", 7)])
    board = board_down(agents, "chiyoda-olt1", "0/1")      # a line card: its ports dead, their ONUs in LOS
    port = pon_port_down(agents, "chiyoda-olt1", "0/2/0")  # one port's own optic dead
    up = uplink_down(agents, "oasa-olt1")                  # every uplink down, the ONUs still up
    rogue = rogue_onu(agents, "chiyoda-olt1", "0/1/3")     # LOSi on the port, one ONU's rogue-ONT alarm
    restore(agents)                      # every fault, or restore(agents, cut)
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from simulator.agents import TownAgents
from simulator.snmprec import write_olt
from simulator.topology import port_splitters
from simulator.town import DownCause, Olt, Onu, OnuState, Town

FaultKind = Literal["pon_port_cut", "power_cut", "splitter_cut", "board_down", "pon_port_down", "uplink_down",
                   "rogue_onu"]


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault: the ONUs it took down, as they were before (to restore them)."""

    kind: FaultKind
    cause: DownCause
    before: tuple[Onu, ...]
    #: (olt, pon_port) of the ports whose own optic the fault killed (a board, a port)
    ports: tuple[tuple[str, str], ...] = ()
    #: the OLTs whose uplinks the fault took down
    uplinks: tuple[str, ...] = ()

    @property
    def olts(self) -> tuple[str, ...]:
        return tuple(sorted({u.olt for u in self.before} | {o for o, _p in self.ports} | set(self.uplinks)))

    @property
    def households(self) -> frozenset[str]:
        return frozenset(u.household for u in self.before)

    @property
    def onus(self) -> frozenset[tuple[str, str, str]]:
        """(olt, pon_port, onu_id) as the poller's labels spell them."""
        return frozenset((u.olt, u.pon_port, str(u.onu_id)) for u in self.before)


@dataclass(slots=True)
class _State:
    town: Town
    olts: dict[str, Olt]
    applied: list[Fault] = field(default_factory=list)


_STATES: weakref.WeakKeyDictionary[TownAgents, _State] = weakref.WeakKeyDictionary()
#: faults come from tests, provisioning changes from the SSH simulators' publisher thread: one at a time
_LOCK = threading.RLock()


def _state(agents: TownAgents) -> _State:
    town = agents.town  # raises unless running
    state = _STATES.get(agents)
    if state is None or state.town is not town:  # first fault, or the agents were started again
        state = _State(town, {o.name: o for o in town.olts})
        _STATES[agents] = state
    return state


def current_olt(agents: TownAgents, olt: str) -> Olt:
    """The OLT as its agent serves it now, faults included."""
    return _state(agents).olts[olt]


def applied_faults(agents: TownAgents) -> list[Fault]:
    return list(_state(agents).applied)


def cut_pon_port(agents: TownAgents, olt: str, port: str, *, restart: bool = True) -> Fault:
    """Cut the feeder of ``port`` on ``olt``: every online ONU on it goes to LOS (Huawei cause 1, ZTE
    phase 1). Raises KeyError for an unknown OLT or port."""
    state = _state(agents)
    model = state.olts[olt]
    pon = next((p for p in model.pon_ports if p.name == port), None)
    if pon is None:
        raise KeyError(f"{olt} has no PON port {port!r}")
    victims = [u for u in pon.onus if u.online]
    return _apply(agents, state, Fault("pon_port_cut", "los", tuple(victims)), "los", restart)


def cut_splitter(agents: TownAgents, olt: str, port: str, splitter: str, *, restart: bool = True) -> Fault:
    """Cut the fibre feeding ``splitter`` (``simulator.topology.port_splitters``) on ``port`` of ``olt``:
    every online ONU below it goes to LOS. Raises KeyError for an unknown OLT, port or splitter."""
    state = _state(agents)
    model = state.olts[olt]
    pon = next((p for p in model.pon_ports if p.name == port), None)
    if pon is None:
        raise KeyError(f"{olt} has no PON port {port!r}")
    # the town's own layout: the splitters stay where they were when provisioning or faults changed the ONUs
    laid = next(p for p in state.town.olt(olt).pon_ports if p.name == port)
    below = next((s.onu_ids for s in port_splitters(laid) if s.name == splitter), None)
    if below is None:
        raise KeyError(f"{olt} port {port} has no splitter {splitter!r}")
    victims = [u for u in pon.onus if u.online and u.onu_id in below]
    return _apply(agents, state, Fault("splitter_cut", "los", tuple(victims)), "los", restart)


def power_cut(agents: TownAgents, district: str, share: float, *, seed: int = 0, restart: bool = True) -> Fault:
    """Cut the power of ``share`` (0–1) of the district's online ONUs (by the household's district): they
    send a dying gasp (Huawei cause 13, ZTE phase 4). The choice is deterministic for a ``seed``."""
    if not 0 <= share <= 1:
        raise ValueError(f"share must be between 0 and 1, not {share}")
    state = _state(agents)
    district_of = {h.code: h.district for h in state.town.households}
    if district not in {d.code for d in state.town.districts}:
        raise KeyError(f"the town has no district {district!r}")
    online = [u for o in state.olts.values() for u in o.onus() if u.online and district_of.get(u.household) == district]
    n = 0 if share == 0 or not online else max(1, round(share * len(online)))
    victims = random.Random(seed).sample(online, n)
    return _apply(agents, state, Fault("power_cut", "dying_gasp", tuple(victims)), "dying_gasp", restart)


def power_cut_at(agents: TownAgents, onus: Iterable[tuple[str, str, int]], *, restart: bool = True) -> Fault:
    """Cut the power of exactly these ONUs (``(olt, pon_port, onu_id)``, each online): a cut of a few homes
    a test places on chosen OLTs (three on each of two shards). Raises KeyError for an unknown ONU and
    ValueError for one that is not online."""
    state = _state(agents)
    wanted = list(dict.fromkeys(onus))
    known = {(u.olt, u.pon_port, u.onu_id): u for name in {w[0] for w in wanted} if name in state.olts
             for u in state.olts[name].onus()}  # fmt: skip
    missing = [w for w in wanted if w not in known]
    if missing:
        raise KeyError(f"the town has no ONU {missing[0]!r}")
    offline = [w for w in wanted if not known[w].online]
    if offline:
        raise ValueError(f"ONU {offline[0]!r} is not online: a power cut takes only online ONUs")
    return _apply(agents, state, Fault("power_cut", "dying_gasp", tuple(known[w] for w in wanted)), "dying_gasp",
                  restart)


def board_down(agents: TownAgents, olt: str, board: str, *, restart: bool = True) -> Fault:
    """A line card of ``olt`` dies: ``board`` is frame/slot (``0/1``); each of its PON ports transmits no
    more (Huawei: port faulty, the transmit power's sentinel) and every online ONU on them goes to LOS.
    Raises KeyError for an unknown OLT or a board without PON ports."""
    state = _state(agents)
    pons = [p for p in state.olts[olt].pon_ports if p.name.rpartition("/")[0] == board]
    if not pons:
        raise KeyError(f"{olt} has no board {board!r} with PON ports")
    victims = tuple(u for p in pons for u in p.onus if u.online)
    fault = Fault("board_down", "los", victims, ports=tuple((olt, p.name) for p in pons))
    return _apply(agents, state, fault, "los", restart)


def pon_port_down(agents: TownAgents, olt: str, port: str, *, restart: bool = True) -> Fault:
    """The PON port's own optic dies (the central office's fault, not the fibre's): the port reads faulty with
    its laser on and no transmit power, every online ONU on it in LOS. Raises KeyError for an unknown port."""
    state = _state(agents)
    pon = next((p for p in state.olts[olt].pon_ports if p.name == port), None)
    if pon is None:
        raise KeyError(f"{olt} has no PON port {port!r}")
    fault = Fault("pon_port_down", "los", tuple(u for u in pon.onus if u.online), ports=((olt, port),))
    return _apply(agents, state, fault, "los", restart)


def uplink_down(agents: TownAgents, olt: str, *, restart: bool = True) -> Fault:
    """Every uplink of ``olt`` goes operationally down (IF-MIB ifOperStatus 2, admin still up); its ONUs stay
    up on the PON. Raises KeyError for an unknown OLT."""
    state = _state(agents)
    if olt not in state.olts:
        raise KeyError(f"the town has no OLT {olt!r}")
    return _apply(agents, state, Fault("uplink_down", "los", (), uplinks=(olt,)), "los", restart)


def rogue_onu(agents: TownAgents, olt: str, port: str, *, restart: bool = True) -> Fault:
    """One ONU of ``port`` transmits out of its slot: the OLT raises its rogue-ONT alarm (Huawei last down
    cause 37, the rogue isolated) and every other online ONU of the port loses its bursts (LOSi, cause 2).
    Only Huawei's MIB names the alarm: a ZTE OLT raises ValueError. KeyError for an unknown port."""
    state = _state(agents)
    model = state.olts[olt]
    if model.vendor != "huawei":
        raise ValueError(f"{olt} is a {model.vendor} OLT: only Huawei's MIB gives the rogue-ONT alarm")
    pon = next((p for p in model.pon_ports if p.name == port), None)
    if pon is None:
        raise KeyError(f"{olt} has no PON port {port!r}")
    victims = tuple(u for u in pon.onus if u.online)
    if not victims:
        raise ValueError(f"{olt} {port} has no online ONU to go rogue")
    fault = Fault("rogue_onu", "losi", victims)
    new = {(u.olt, u.pon_port, u.onu_id): _offline(u, "los", "losi") for u in victims[1:]}
    rogue = victims[0]
    new[(rogue.olt, rogue.pon_port, rogue.onu_id)] = _offline(rogue, "los", "rogue_ont")
    changed = _replace_onus(state, new)
    state.applied.append(fault)
    _publish(agents, state, changed, restart)
    return fault


def restore(agents: TownAgents, fault: Fault | None = None, *, restart: bool = True) -> list[str]:
    """Bring back the ONUs of ``fault`` (default: of every fault applied), their last down cause now the
    fault's; returns the OLTs whose agents were restarted."""
    state = _state(agents)
    faults = [fault] if fault is not None else list(reversed(state.applied))
    changed: set[str] = set()
    for f in faults:
        if f not in state.applied:
            continue
        state.applied.remove(f)
        now = int(time.time())
        during = {(o.olt, o.pon_port, o.onu_id): o for name in f.olts for o in state.olts[name].onus()}
        back = {(u.olt, u.pon_port, u.onu_id): _back(u, during.get((u.olt, u.pon_port, u.onu_id)), f.cause, now)
                for u in f.before}
        changed |= _replace_onus(state, back)
        changed |= _set_equipment(state, f, broken=False)
    return _publish(agents, state, changed, restart)


def _apply(agents: TownAgents, state: _State, fault: Fault, cause: DownCause, restart: bool) -> Fault:
    down: OnuState = "los" if cause == "los" else "dying_gasp"
    new = {(u.olt, u.pon_port, u.onu_id): _offline(u, down, cause) for u in fault.before}
    changed = _replace_onus(state, new) | _set_equipment(state, fault, broken=True)
    state.applied.append(fault)
    _publish(agents, state, changed, restart)
    return fault


def _set_equipment(state: _State, fault: Fault, *, broken: bool) -> set[str]:
    """Kill (or repair) the fault's ports and uplinks in the model; returns the OLTs changed."""
    changed: set[str] = set()
    for name in sorted({o for o, _p in fault.ports}):
        dead = {p for o, p in fault.ports if o == name}
        model = state.olts[name]
        ports = tuple(dataclasses.replace(p, failed=broken, interface=dataclasses.replace(p.interface,
                                                                                          oper_up=not broken))
                      if p.name in dead else p for p in model.pon_ports)  # fmt: skip
        state.olts[name] = dataclasses.replace(model, pon_ports=ports)
        changed.add(name)
    for name in fault.uplinks:
        model = state.olts[name]
        ups = tuple(dataclasses.replace(i, oper_up=not broken) for i in model.uplinks)
        state.olts[name] = dataclasses.replace(model, uplinks=ups)
        changed.add(name)
    return changed


def _offline(u: Onu, state: OnuState, cause: DownCause) -> Onu:
    """An ONU that is down: no optical readings, distance or temperature (the agent's sentinels), down
    since now (Huawei's last down and dying-gasp times)."""
    now = int(time.time())
    return dataclasses.replace(
        u, state=state, last_down_cause=cause, rx_dbm=None, tx_dbm=None, olt_rx_dbm=None,
        distance_m=None, temperature_c=None, last_down_at=now,
        last_dying_gasp_at=now if cause == "dying_gasp" else u.last_dying_gasp_at,
    )  # fmt: skip


def _back(before: Onu, during: Onu | None, cause: DownCause, now: int) -> Onu:
    """A fault's ONU as it was before, its last down cause now the fault's, its last down (and dying-gasp)
    time the fault's, up since now."""
    return dataclasses.replace(
        before, last_down_cause=cause, last_up_at=now,
        last_down_at=during.last_down_at if during is not None else now,
        last_dying_gasp_at=during.last_dying_gasp_at if during is not None else before.last_dying_gasp_at,
    )


def _replace_onus(state: _State, new: dict[tuple[str, str, int], Onu]) -> set[str]:
    changed: set[str] = set()
    for name in sorted({k[0] for k in new}):
        model = state.olts[name]
        ports = tuple(
            dataclasses.replace(p, onus=tuple(new.get((u.olt, u.pon_port, u.onu_id), u) for u in p.onus))
            for p in model.pon_ports
        )
        state.olts[name] = dataclasses.replace(model, pon_ports=ports)
        changed.add(name)
    return changed


def set_olt_onus(agents: TownAgents, olt: str, onus: Mapping[str, Sequence[Onu]], *, restart: bool = True) -> None:
    """Serve exactly these ONUs per PON port on ``olt`` (provisioning added, removed or suspended some:
    ``simulator.cli.town``). Ports not named keep none. Raises KeyError for an unknown OLT."""
    with _LOCK:
        state = _state(agents)
        model = state.olts[olt]
        ports = tuple(dataclasses.replace(p, onus=tuple(onus.get(p.name, ()))) for p in model.pon_ports)
        state.olts[olt] = dataclasses.replace(model, pon_ports=ports)
        _publish(agents, state, [olt], restart)


def _publish(agents: TownAgents, state: _State, olts: Iterable[str], restart: bool) -> list[str]:
    """Rewrite the OLTs' data files and restart their agents (only theirs)."""
    with _LOCK:
        return _publish_locked(agents, state, olts, restart)


def _publish_locked(agents: TownAgents, state: _State, olts: Iterable[str], restart: bool) -> list[str]:
    names: Sequence[str] = sorted(olts)
    for name in names:
        write_olt(
            state.olts[name],
            agents.writable_data_dir(name),
            community=state.town.community,
            empty_context=agents.empty_context,
            moving_counters=agents.moving_counters,
        )
    if restart:
        for name in names:
            agents.restart(name)
    return list(names)
