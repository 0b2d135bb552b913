"""The simulated town's command lines: an SSH OLT per town OLT and a Yamaha router per school, sharing
state with the town's SNMP agents.

What support staff would find in the field is set up here: each household the town lists as
``installed`` has an ONU plugged into a PON port of an OLT in its district, visible in autofind and
not yet configured (``installs`` says which serial the installer reported). When a CLI session adds,
removes, suspends or resumes an ONT, the OLT's SNMP agent is rewritten and restarted a moment later
(changes arriving together are served together), so the next SNMP poll shows the ONU with the light
levels of the ONU that is plugged in, as on a real OLT after ranging.

    with TownAgents(town) as agents, TownCli(agents) as cli:
        cli.address("chiyoda-olt1")               # "127.0.0.1:40222"
        serial = cli.installs["HH-007012"].serial  # what the installer reported
"""

from __future__ import annotations

import ipaddress
import logging
import queue
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType

from simulator.agents import TownAgents
from simulator.cli import olt_shell_class
from simulator.cli.olt_state import OltState, PluggedOnu, SimOnt
from simulator.cli.router_state import RouterState
from simulator.cli.server import SshDeviceServer
from simulator.cli.yamaha import YamahaShell
from simulator.faults import current_olt, set_olt_onus
from simulator.town import OLT_CLI_AUTH, ROUTER_CLI_AUTH, Olt, Onu, Town
from simulator.vendors import olt_profile

log = logging.getLogger(__name__)

#: the demo's CLI login on every simulated device (the demo configuration names the same)
CLI_USER = "ftthnoc"
CLI_PASSWORD = "ftthnoc-demo"
#: the Yamaha routers' administrator password
ROUTER_ADMIN_PASSWORD = "ftthnoc-admin"
#: the plan profiles and VLAN the simulated OLTs' existing ONUs were configured with
TOWN_PROFILE = 10
TOWN_VLAN = 100


@dataclass(frozen=True, slots=True)
class Install:
    """An ONU an installer plugged in at a household that is not yet enrolled."""

    household: str
    olt: str
    onu: PluggedOnu

    @property
    def serial(self) -> str:
        return self.onu.serial


def plan_installs(town: Town, seed: int | None = None) -> dict[str, Install]:
    """One plugged ONU per ``installed`` household, on an OLT of its district, on the port with the
    fewest ONUs; healthy light levels. Deterministic for a town and seed."""
    rng = random.Random(f"{town.seed if seed is None else seed}:installs")
    taken = {u.serial for u in town.onus()}
    load = {(o.name, p.name): len(p.onus) for o in town.olts for p in o.pon_ports}
    installs: dict[str, Install] = {}
    for h in town.households:
        if h.status != "installed":
            continue
        olts = [o for o in town.olts if o.district == h.district]
        if not olts:
            continue
        olt = olts[rng.randrange(len(olts))]
        port = min(olt.pon_ports, key=lambda p: (load[(olt.name, p.name)], p.name)).name
        load[(olt.name, port)] += 1
        profile = olt_profile(olt.vendor)
        prefix = profile.serial_prefix
        while True:
            raw = f"{prefix}{rng.getrandbits(32):08X}"
            if raw not in taken:
                taken.add(raw)
                break
        rx = round(rng.uniform(-24.5, -16.5), 2)
        onu = PluggedOnu(
            pon_port=port,
            serial=f"{raw[:4]}-{raw[4:]}",
            equipment=profile.plugged_equipment,
            rx_dbm=rx,
            tx_dbm=round(rng.uniform(1.5, 3.0), 2) if profile.plugged_optics else None,
            olt_rx_dbm=round(rx - rng.uniform(0.5, 3.0), 2),
            distance_m=rng.randrange(300, 14000),
            temperature_c=rng.randrange(30, 55) if profile.plugged_optics else None,
        )
        installs[h.code] = Install(h.code, olt.name, onu)
    return installs


def served_onus(olt: Olt, state: OltState, suspended: set[tuple[str, int]]) -> dict[str, list[Onu]]:
    """The ONUs the OLT's SNMP agent must serve for the CLI state.

    An ONT the agent already serves keeps its readings (an ONU in LOS or dying gasp stays so, faults
    included) unless it was suspended or resumed since; a new ONT runs with the plugged ONU's light
    levels when it is active and plugged into that port. ``suspended`` (updated here) remembers which
    ONTs are served as down because they were deactivated. A Huawei ONT deactivated (by the CLI, or in
    the generated town) is served as such, its down time kept, until it is activated again.
    """
    current = {(u.pon_port, u.onu_id): u for u in olt.onus()}
    out: dict[str, list[Onu]] = {p.name: [] for p in olt.pon_ports}
    for ont in state.onts():
        key = (ont.pon_port, ont.ont_id)
        raw = ont.serial.replace("-", "")
        have = current.get(key)
        down_on_purpose = have is not None and have.state == "deactivated"
        was_deactivated = have is not None and down_on_purpose and have.last_down_cause == "deactivated"
        kept = (ont.active and key not in suspended and not was_deactivated) or (not ont.active and down_on_purpose)
        # unchanged since the last publish: the ONU keeps its readings and times
        onu = have if have is not None and have.serial == raw and kept else _onu_for(olt, state, ont, raw)
        if ont.active:
            suspended.discard(key)
        else:
            suspended.add(key)
        out.setdefault(ont.pon_port, []).append(onu)
    for onus in out.values():
        onus.sort(key=lambda u: u.onu_id)
    return out


def _onu_for(olt: Olt, state: OltState, ont: SimOnt, raw: str) -> Onu:
    plugged = state.plugged(ont.serial)
    now = int(time.time())
    profile = olt_profile(olt.vendor)  # only Huawei's tables carry times, the model and a "deactivated" cause
    model, firmware = profile.ont_model(raw)
    if ont.active and plugged is not None and plugged.pon_port == ont.pon_port:
        return Onu(raw, olt.name, ont.pon_port, ont.ont_id, ont.description, "online", None, plugged.rx_dbm,
                   plugged.tx_dbm, plugged.olt_rx_dbm, plugged.distance_m, plugged.temperature_c,
                   model=model, firmware=firmware, last_up_at=now if profile.reports_history else None)
    if not ont.active and profile.reports_deactivated:
        # deactivated (``ont deactivate``): down on purpose, HUAWEI-XPON-MIB last down cause 8
        return Onu(raw, olt.name, ont.pon_port, ont.ont_id, ont.description, "deactivated", "deactivated", None,
                   None, None, None, None, model=model, firmware=firmware, last_down_at=now)
    # configured with nothing plugged in (or a deactivated ZTE ONU): the OLT sees no light from it
    return Onu(raw, olt.name, ont.pon_port, ont.ont_id, ont.description, "los", None, None, None, None, None, None)


class TownCli:
    """SSH simulators for the town's OLTs and school routers, kept in step with its SNMP agents."""

    def __init__(self, agents: TownAgents, *, users: Mapping[str, str] | None = None, schools: bool = True,
                 ports: Mapping[str, int] | None = None, publish_delay: float = 0.3) -> None:
        self.agents = agents
        self.users = dict(users or {CLI_USER: CLI_PASSWORD})
        self.with_schools = schools
        self.fixed_ports = dict(ports or {})
        self.publish_delay = publish_delay
        self.olt_states: dict[str, OltState] = {}
        self.router_states: dict[str, RouterState] = {}
        self.servers: dict[str, SshDeviceServer] = {}
        self.installs: dict[str, Install] = {}
        #: SNMP republications done (one per batch of CLI changes to one OLT)
        self.publications = 0
        self._dirty: queue.Queue[str | None] = queue.Queue()
        self._publisher: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()
        self._suspended: dict[str, set[tuple[str, int]]] = {}

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> TownCli:
        town = self.agents.town
        self.installs = plan_installs(town)
        for olt in town.olts:
            state = OltState.from_town_olt(olt, (TOWN_PROFILE, TOWN_PROFILE), TOWN_VLAN)
            state.plug_many(i.onu for i in self.installs.values() if i.olt == olt.name)
            state.add_listener(self._changed)
            self.olt_states[olt.name] = state
            shell = olt_shell_class(olt.vendor)
            self._serve(olt.name, lambda _user, st=state, sh=shell: sh(st))
        if self.with_schools:
            for n, school in enumerate(town.schools):
                net = ipaddress.IPv4Network(f"10.{64 + n // 256}.{n % 256}.0/24")
                hosts = list(net.hosts())
                router = RouterState({1: (str(hosts[9]), str(hosts[-5]), 24)}, lan_address=f"{hosts[0]}/24",
                                     lease_type="bind-only")
                self.router_states[school.code] = router
                self._serve(school.code, lambda _user, st=router: YamahaShell(st, admin_password=ROUTER_ADMIN_PASSWORD))
        self._publisher = threading.Thread(target=self._publish_loop, name="town-cli-publisher", daemon=True)
        self._publisher.start()
        return self

    def _serve(self, name: str, factory: object) -> None:
        server = SshDeviceServer(factory, users=self.users, port=self.fixed_ports.get(name, 0),  # type: ignore[arg-type]
                                 name=name)
        self.servers[name] = server.start()

    def stop(self) -> None:
        if self._publisher is not None:
            self._dirty.put(None)
            self._publisher.join(timeout=30)
            self._publisher = None
        for server in self.servers.values():
            server.stop()
        self.servers.clear()

    def __enter__(self) -> TownCli:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ what callers need
    def address(self, name: str) -> str:
        """``HOST:PORT`` of an OLT's (by name) or a school router's (by school code) SSH server."""
        server = self.servers[name]
        return f"{server.host}:{server.port}"

    def addresses(self) -> dict[str, str]:
        return {name: self.address(name) for name in self.servers}

    def town(self) -> Town:
        """The running town with its CLI addresses, for ``inventory_document()``."""
        return self.agents.town.with_cli_addresses(self.addresses())

    def plug(self, olt: str, onu: PluggedOnu) -> None:
        """An installer plugs in an ONU (tests: a weak one, a second one ...)."""
        self.olt_states[olt].plug(onu)

    def wait_published(self, timeout: float = 60.0) -> bool:
        """Block until every CLI change so far is served by the SNMP agents."""
        return self._idle.wait(timeout)

    # ------------------------------------------------------------------ CLI → SNMP
    def _changed(self, state: OltState) -> None:
        self._idle.clear()
        self._dirty.put(state.name)

    def _publish_loop(self) -> None:
        # Restarts happen on this thread: the agents it respawns die with it (die_with_parent), so it
        # lives until stop().
        while True:
            name = self._dirty.get()
            if name is None:
                return
            batch = {name}
            stop = False
            deadline_wait = self.publish_delay
            while True:  # collect what arrives together into one restart per OLT
                try:
                    more = self._dirty.get(timeout=deadline_wait)
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.add(more)
            for olt in sorted(batch):
                try:
                    model = current_olt(self.agents, olt)
                    onus = served_onus(model, self.olt_states[olt], self._suspended.setdefault(olt, set()))
                    set_olt_onus(self.agents, olt, onus)
                    self.publications += 1
                except Exception:  # a simulator must keep serving; the test or demo sees stale SNMP
                    log.exception("could not publish CLI changes of %s to its SNMP agent", olt)
            if self._dirty.empty():
                self._idle.set()
            if stop:
                return


def provisioning_section(verify_timeout: float = 120.0, verify_interval: float = 2.0) -> dict[str, object]:
    """The ``provisioning:`` configuration that drives the simulated town's devices (demo and tests)."""
    plans = {
        plan: {"line_profile": TOWN_PROFILE, "service_profile": TOWN_PROFILE, "vlan": TOWN_VLAN,
               "user_vlan": TOWN_VLAN, "onu_type": "ZTE-F660", "tcont_profile": tcont}
        for plan, tcont in (("home-1g", "1G"), ("home-200m", "200M"), ("home-10g", "10G"), ("business-1g", "1G"))
    }
    return {
        "credentials": {
            OLT_CLI_AUTH: {"username": CLI_USER, "password": CLI_PASSWORD},
            ROUTER_CLI_AUTH: {"username": CLI_USER, "password": CLI_PASSWORD, "secret": ROUTER_ADMIN_PASSWORD},
        },
        "plans": plans,
        "verify_timeout_seconds": verify_timeout,
        "verify_interval_seconds": verify_interval,
        "reconnect_wait_seconds": 0.5,
    }
