"""What one simulated OLT knows, shared by every CLI session to it (and by whoever listens for changes).

Vendor-neutral on purpose: the Huawei and ZTE shells print the same facts in their own words, and the
rules a real OLT enforces (one serial once, one id once, no ONT deleted while service ports still point
at it, a port's capacity) live here once, so both shells and their tests agree on them. Refusals carry
the device's own wording, which the shells print as is.

Running and saved configuration are apart, as on the box: changes go to the running configuration;
``save`` (Huawei ``save``, ZTE ``write``) copies it to the startup configuration (``startup``, a
snapshot), which is what a restart (``reboot``) loads. ``saved`` says whether anything changed since the
last save; ``startup`` says what a restart would bring back.

What differs by vendor comes from the vendor's simulator profile (``simulator.vendors``: the refusals'
wording, an ONU's type and its ONU-side service block) and its vendor pack (the ONT id range); an OLT of
a vendor without a profile cannot be built. ZTE wording is this project's choice, modelled on C300 V2.x
answers (``%Code <n>-GPONSRV : ...``): verify against a real box before relying on the exact text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ftthnoc.normalise import normalise_serial
from simulator.vendors import OltProfile, olt_profile

if TYPE_CHECKING:
    from simulator.town import Olt

#: an OLT vendor pack's name, with a simulator profile
OltVendor = str
Listener = Callable[["OltState"], None]


def serial_hex(serial: str) -> str:
    """The 16-hex-digit form Huawei prints and accepts: ``HWTC-A1B2C3D4`` → ``48575443A1B2C3D4``."""
    vendor, _, rest = normalise_serial(serial).partition("-")
    return vendor.encode("ascii").hex().upper() + rest


def serial_raw(serial: str) -> str:
    """The dashless form ZTE prints and accepts: ``ZTEG-C0000001`` → ``ZTEGC0000001``."""
    return normalise_serial(serial).replace("-", "")


class CliRefusal(Exception):
    """The OLT refused a command; ``str()`` is the device's own words."""


@dataclass(frozen=True, slots=True)
class PluggedOnu:
    """An ONU physically connected to a PON port: it shows in autofind until it is configured."""

    pon_port: str
    serial: str  # normalised, e.g. HWTC-A1B2C3D4
    equipment: str = "EG8145V5"
    rx_dbm: float = -20.0
    tx_dbm: float | None = 2.1
    olt_rx_dbm: float | None = -22.5
    distance_m: int | None = 1500
    temperature_c: int | None = 45


@dataclass(frozen=True, slots=True)
class SimOnt:
    """An ONT configured on the OLT (authorised by serial)."""

    pon_port: str
    ont_id: int
    serial: str
    line_profile: int
    service_profile: int
    description: str
    active: bool = True
    onu_type: str = ""


@dataclass(frozen=True, slots=True)
class SimServicePort:
    """A service port (Huawei) / ONU service-port (ZTE); ``local`` is ZTE's number inside the ONU."""

    index: int
    pon_port: str
    ont_id: int
    vlan: int
    user_vlan: int
    gemport: int
    local: int = 1


@dataclass(frozen=True, slots=True)
class StartupConfig:
    """The saved (startup) configuration: a copy of the running one at the last save."""

    onts: tuple[SimOnt, ...] = ()
    services: tuple[SimServicePort, ...] = ()
    #: ONU-side configuration per ONT (ZTE's pon-onu-mng block), as (pon_port, ont_id, lines)
    onu_configs: tuple[tuple[str, int, tuple[str, ...]], ...] = ()

    def find_serial(self, serial: str) -> SimOnt | None:
        wanted = normalise_serial(serial)
        return next((o for o in self.onts if o.serial == wanted), None)

    def ont(self, pon_port: str, ont_id: int) -> SimOnt | None:
        return next((o for o in self.onts if (o.pon_port, o.ont_id) == (pon_port, ont_id)), None)

    def services_of(self, pon_port: str, ont_id: int) -> list[SimServicePort]:
        return [s for s in self.services if (s.pon_port, s.ont_id) == (pon_port, ont_id)]


@dataclass(eq=False)
class OltState:
    """One OLT's configuration and plugged ONUs; every public method is thread-safe."""

    name: str
    vendor: OltVendor
    pon_ports: list[str]
    #: -1: as the vendor pack says (its last ONT id − its first + 1)
    max_onts_per_port: int = -1
    #: -1: the vendor pack's first ONT id (Huawei 0, ZTE 1)
    first_ont_id: int = -1
    #: no configuration change since the last save (or restart)
    saved: bool = True
    #: configuration changes since start (a restart that changes the running configuration counts)
    changes: int = 0
    #: saves done (``save`` / ``write``)
    saves: int = 0
    #: what a restart loads: the running configuration as it was at the last save
    startup: StartupConfig = field(default_factory=StartupConfig)
    _onts: dict[tuple[str, int], SimOnt] = field(default_factory=dict)
    _services: dict[int, SimServicePort] = field(default_factory=dict)
    #: ONU-side configuration lines per ONT: ZTE's ``pon-onu-mng`` block (``service 1 gemport 1 vlan
    #: 100``, ``vlan port eth_0/1 mode tag vlan 100``); without it a ZTE ONU ranges but serves no home
    _onu_configs: dict[tuple[str, int], tuple[str, ...]] = field(default_factory=dict)
    _plugged: dict[str, PluggedOnu] = field(default_factory=dict)
    _listeners: list[Listener] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        profile = self.profile  # an unknown vendor fails here, not on its first command
        if self.first_ont_id < 0:
            self.first_ont_id = profile.first_ont_id
        if self.max_onts_per_port < 0:
            self.max_onts_per_port = profile.ont_ids

    @property
    def profile(self) -> OltProfile:
        return olt_profile(self.vendor)

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_town_olt(cls, olt: Olt, plan_profiles: tuple[int, int] = (10, 10), vlan: int = 100) -> OltState:
        """The OLT as the simulated town has it: every ONU configured, with one service port each."""
        state = cls(name=olt.name, vendor=olt.vendor, pon_ports=[p.name for p in olt.pon_ports])
        profile = state.profile
        line, service = plan_profiles
        for port in olt.pon_ports:
            for onu in port.onus:
                state._onts[(onu.pon_port, onu.onu_id)] = SimOnt(
                    onu.pon_port, onu.onu_id, normalise_serial(onu.serial), line, service, onu.household,
                    active=onu.last_down_cause != "deactivated" or onu.online,  # `ont deactivate`d
                    onu_type=profile.onu_type,
                )
                state._plugged[normalise_serial(onu.serial)] = PluggedOnu(
                    onu.pon_port, normalise_serial(onu.serial),
                    rx_dbm=onu.rx_dbm if onu.rx_dbm is not None else -40.0, tx_dbm=onu.tx_dbm,
                    olt_rx_dbm=onu.olt_rx_dbm, distance_m=onu.distance_m, temperature_c=onu.temperature_c,
                )
                index = state._free_index()
                state._services[index] = SimServicePort(index, onu.pon_port, onu.onu_id, vlan, vlan, 1)
                if profile.onu_service_lines is not None:  # the town's homes have service: ZTE's ONU block
                    state._onu_configs[(onu.pon_port, onu.onu_id)] = profile.onu_service_lines(vlan)
        state.startup = state._snapshot()  # the town's OLTs have saved their configuration
        return state

    # ------------------------------------------------------------------ listeners

    def add_listener(self, fn: Listener) -> None:
        """Call ``fn(state)`` after every change (outside the lock)."""
        with self._lock:
            self._listeners.append(fn)

    def _changed(self, *, config: bool = True) -> None:
        with self._lock:
            if config:
                self.saved = False
                self.changes += 1
        self._notify()

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for fn in listeners:
            fn(self)

    def _refuse(self, key: str) -> CliRefusal:
        return CliRefusal(self.profile.refusal(key))

    def _check_port(self, pon_port: str) -> None:
        if pon_port not in self.pon_ports:
            raise self._refuse("no_port")

    # ------------------------------------------------------------------ reads

    def autofind(self) -> list[PluggedOnu]:
        """Plugged ONUs no ONT on their own port is configured for, in port then serial order. An ONU
        whose serial is configured on another port (moved, or a stale entry) shows: it cannot match."""
        with self._lock:
            configured = {(o.pon_port, o.serial) for o in self._onts.values()}
            found = [p for p in self._plugged.values() if (p.pon_port, p.serial) not in configured]
        order = {p: i for i, p in enumerate(self.pon_ports)}
        return sorted(found, key=lambda p: (order.get(p.pon_port, len(order)), p.serial))

    def ont(self, pon_port: str, ont_id: int) -> SimOnt | None:
        with self._lock:
            return self._onts.get((pon_port, ont_id))

    def onts(self, pon_port: str | None = None) -> list[SimOnt]:
        with self._lock:
            found = [o for o in self._onts.values() if pon_port is None or o.pon_port == pon_port]
        return sorted(found, key=lambda o: (o.pon_port, o.ont_id))

    def find_serial(self, serial: str) -> SimOnt | None:
        wanted = normalise_serial(serial)
        with self._lock:
            return next((o for o in self._onts.values() if o.serial == wanted), None)

    def plugged(self, serial: str) -> PluggedOnu | None:
        with self._lock:
            return self._plugged.get(normalise_serial(serial))

    def online(self, ont: SimOnt) -> bool:
        """An ONT is up when it is active and its ONU is plugged on the port it is configured on."""
        with self._lock:
            onu = self._plugged.get(ont.serial)
        return ont.active and onu is not None and onu.pon_port == ont.pon_port

    def onu_config(self, pon_port: str, ont_id: int) -> tuple[str, ...]:
        """The ONT's ONU-side configuration lines (ZTE's pon-onu-mng block), in the order given."""
        with self._lock:
            return self._onu_configs.get((pon_port, ont_id), ())

    def services(self) -> list[SimServicePort]:
        with self._lock:
            return [self._services[i] for i in sorted(self._services)]

    def services_of(self, pon_port: str, ont_id: int) -> list[SimServicePort]:
        return [s for s in self.services() if s.pon_port == pon_port and s.ont_id == ont_id]

    def service(self, index: int) -> SimServicePort | None:
        with self._lock:
            return self._services.get(index)

    # ------------------------------------------------------------------ changes

    def add_ont(
        self,
        pon_port: str,
        ont_id: int | None,
        serial: str,
        line_profile: int,
        service_profile: int,
        description: str,
        onu_type: str = "",
    ) -> SimOnt:
        """Authorise an ONT; ``ont_id`` None takes the lowest free id, as Huawei does when it is omitted."""
        sn = normalise_serial(serial)
        with self._lock:
            self._check_port(pon_port)
            if any(o.serial == sn for o in self._onts.values()):
                raise self._refuse("sn_exists")
            taken = {i for (p, i) in self._onts if p == pon_port}
            if ont_id is not None and not self.first_ont_id <= ont_id < self.first_ont_id + self.max_onts_per_port:
                raise self._refuse("bad_id")
            if len(taken) >= self.max_onts_per_port:
                raise self._refuse("port_full")
            if ont_id is None:
                ont_id = next(i for i in range(self.first_ont_id, self.first_ont_id + self.max_onts_per_port)
                              if i not in taken)
            elif ont_id in taken:
                raise self._refuse("id_exists")
            ont = SimOnt(pon_port, ont_id, sn, line_profile, service_profile, description, True, onu_type)
            self._onts[(pon_port, ont_id)] = ont
        self._changed()
        return ont

    def delete_ont(self, pon_port: str, ont_id: int, *, cascade: bool = False) -> None:
        """Forget an ONT; refused while service ports use it unless ``cascade`` (ZTE's ``no onu``)."""
        with self._lock:
            self._check_port(pon_port)
            if (pon_port, ont_id) not in self._onts:
                raise self._refuse("no_ont")
            mine = [s.index for s in self._services.values() if (s.pon_port, s.ont_id) == (pon_port, ont_id)]
            if mine and not cascade:
                raise self._refuse("has_services")
            for index in mine:
                del self._services[index]
            del self._onts[(pon_port, ont_id)]
            self._onu_configs.pop((pon_port, ont_id), None)  # the ONU's own configuration goes with it
        self._changed()

    def set_active(self, pon_port: str, ont_id: int, active: bool) -> None:
        with self._lock:
            ont = self._onts.get((pon_port, ont_id))
            if ont is None:
                raise self._refuse("no_ont")
            self._onts[(pon_port, ont_id)] = replace(ont, active=active)
        self._changed()

    def set_description(self, pon_port: str, ont_id: int, description: str) -> None:
        with self._lock:
            ont = self._onts.get((pon_port, ont_id))
            if ont is None:
                raise self._refuse("no_ont")
            self._onts[(pon_port, ont_id)] = replace(ont, description=description)
        self._changed()

    def _free_index(self) -> int:
        return next(i for i in range(len(self._services) + 1) if i not in self._services)

    def add_service(
        self, pon_port: str, ont_id: int, vlan: int, user_vlan: int, gemport: int, *, local: int | None = None
    ) -> int:
        """Create a service port at the lowest free index (Huawei's rule); returns the index."""
        with self._lock:
            if (pon_port, ont_id) not in self._onts:
                raise self._refuse("no_ont")
            mine = [s for s in self._services.values() if (s.pon_port, s.ont_id) == (pon_port, ont_id)]
            if local is None:
                local = next(i for i in range(1, len(mine) + 2) if i not in {s.local for s in mine})
            elif any(s.local == local for s in mine):
                raise self._refuse("service_exists")
            index = self._free_index()
            self._services[index] = SimServicePort(index, pon_port, ont_id, vlan, user_vlan, gemport, local)
        self._changed()
        return index

    def delete_service(self, index: int) -> None:
        with self._lock:
            if index not in self._services:
                raise self._refuse("no_service")
            del self._services[index]
        self._changed()

    def add_onu_config(self, pon_port: str, ont_id: int, line: str) -> None:
        """Add (or keep, if present) one line of the ONT's ONU-side configuration."""
        with self._lock:
            if (pon_port, ont_id) not in self._onts:
                raise self._refuse("no_ont")
            lines = self._onu_configs.get((pon_port, ont_id), ())
            if line in lines:
                return
            self._onu_configs[(pon_port, ont_id)] = (*lines, line)
        self._changed()

    def remove_onu_config(self, pon_port: str, ont_id: int, matches: Callable[[str], bool]) -> int:
        """Remove the ONT's ONU-side configuration lines ``matches`` selects; how many were removed."""
        with self._lock:
            lines = self._onu_configs.get((pon_port, ont_id), ())
            kept = tuple(line for line in lines if not matches(line))
            removed = len(lines) - len(kept)
            if kept:
                self._onu_configs[(pon_port, ont_id)] = kept
            else:
                self._onu_configs.pop((pon_port, ont_id), None)
        if removed:
            self._changed()
        return removed

    def plug(self, onu: PluggedOnu) -> None:
        """Connect an ONU (a technician's visit): it appears in autofind unless configured. Plugging is
        not configuration: ``saved`` and ``changes`` stay, but listeners hear of it."""
        with self._lock:
            self._plugged[normalise_serial(onu.serial)] = replace(onu, serial=normalise_serial(onu.serial))
        self._changed(config=False)

    def plug_many(self, onus: Iterable[PluggedOnu]) -> None:
        with self._lock:
            for onu in onus:
                self._plugged[normalise_serial(onu.serial)] = replace(onu, serial=normalise_serial(onu.serial))
        self._changed(config=False)

    def unplug(self, serial: str) -> None:
        with self._lock:
            self._plugged.pop(normalise_serial(serial), None)
        self._changed(config=False)

    def _snapshot(self) -> StartupConfig:
        with self._lock:
            onts = tuple(self._onts[k] for k in sorted(self._onts))
            services = tuple(self._services[i] for i in sorted(self._services))
            configs = tuple((p, i, self._onu_configs[(p, i)]) for p, i in sorted(self._onu_configs))
        return StartupConfig(onts, services, configs)

    def save(self) -> None:
        """Copy the running configuration to the startup one; not a change (the counter stays)."""
        with self._lock:
            self.startup = self._snapshot()
            self.saved = True
            self.saves += 1

    def reboot(self) -> None:
        """Restart the OLT: the running configuration becomes the startup one (unsaved changes are lost).
        Plugged ONUs stay plugged. Listeners hear of it when the configuration changed."""
        with self._lock:
            startup = self.startup
            changed = self._snapshot() != startup
            self._onts = {(o.pon_port, o.ont_id): o for o in startup.onts}
            self._services = {s.index: s for s in startup.services}
            self._onu_configs = {(p, i): lines for p, i, lines in startup.onu_configs}
            self.saved = True
            if changed:
                self.changes += 1
        if changed:
            self._notify()
