"""Ask the SNMP collector whether a newly provisioned ONU runs and how much light it receives.

The check goes through the same client, module and decoding as the monitoring poll (a sentinel is no
reading, scaling is the module's), so "it came up" means what the dashboards will show. It GETs only
the new ONU's two columns (each column's instance built from the port name with the inverse of the
module's index quirk, and the layout's constant parts: ZTE's optics table is ``{pon}.{onu}.1``), so its
cost does not grow with the OLT's ONUs; a module whose index cannot be built that way is walked whole.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from collectors.snmp.ber import EXCEPTION_TAGS, Oid
from collectors.snmp.client import Device, SnmpClient
from collectors.snmp.decode import decode_module
from collectors.snmp.module import IndexPart, Metric, Module, get_module
from collectors.snmp.poll import poll_module
from collectors.snmp.quirks import INDEX_INVERSES
from ftthnoc import vendors
from ftthnoc.config import Config, Target, Thresholds
from ftthnoc.errors import ConfigError, SnmpError

T = TypeVar("T")

#: what the check reads of the new ONU
ONU_METRICS: tuple[str, ...] = ("ftth_onu_up", "ftth_onu_rx_power_dbm")


@dataclass(frozen=True, slots=True)
class OnuReading:
    """What the OLT reports of one ONU: ``up`` None when the ONU is not in its tables at all."""

    up: bool | None
    rx_dbm: float | None
    polled_at: float
    error: str | None = None  # the poll itself failed (timeout, auth ...)


@dataclass(frozen=True, slots=True)
class OltSnmp:
    """An OLT as the verifier polls it: from the inventory row, with the configured auth's name."""

    name: str
    address: str
    vendor: str
    auth: str
    pon_class: str
    modules: tuple[str, ...] = ()

    def module(self) -> str:
        """The OLT's own ONU module (one of its vendor pack's, if the target lists one), else the pack's default."""
        own = vendors.olt_modules(self.vendor)
        listed = [m for m in self.modules if m in own]
        return listed[0] if listed else vendors.olt(self.vendor).onu_module.value


class OnuReader:
    """Reads one ONU of one OLT; ``read`` may be called many times on one client (one v3 engine)."""

    def __init__(self, config: Config, olt: OltSnmp, pon_port: str, ont_id: int, *, timeout: float = 3.0) -> None:
        if olt.auth not in config.auths:
            raise ConfigError(f"OLT {olt.name} names SNMP auth {olt.auth!r}, which the configuration does not define")
        target = Target(name=olt.name, address=olt.address, modules=[olt.module()], auth=olt.auth,
                        pon_class=olt.pon_class, timeout=timeout, retries=1)
        self.device = Device.from_target(target, config.auths[olt.auth])
        self.olt, self.pon_port, self.ont_id = olt, pon_port, ont_id
        self.module = get_module(target.modules[0])
        self.wanted = [m for m in self.module.metrics if m.name in ONU_METRICS]
        self.instances = _instances(self.module, self.wanted, pon_port, ont_id)

    async def read(self, client: SnmpClient) -> OnuReading:
        if self.instances is not None:  # two GETs' worth: only this ONU's columns
            try:
                varbinds = await client.get(self.device, [m.oid_tuple + instance for m, instance
                                                          in zip(self.wanted, self.instances, strict=True)])
            except SnmpError as exc:
                return OnuReading(None, None, time.time(), exc.reason)
            columns = {m.oid_tuple: [vb] for m, vb in zip(self.wanted, varbinds, strict=True)
                       if vb.tag not in EXCEPTION_TAGS}
            families, _rejected = decode_module(self.module, columns, self.olt.name)
        else:  # a module whose index cannot be built from a port name: walk it whole
            result = await poll_module(client, self.device, self.module)
            if not result.success:
                return OnuReading(None, None, time.time(), result.error or "poll failed")
            families = result.families
        up: bool | None = None
        rx: float | None = None
        want = {"olt": self.olt.name, "pon_port": self.pon_port, "onu_id": str(self.ont_id)}
        for fam in families:
            if fam.name not in ONU_METRICS:
                continue
            for sample in fam.samples:
                if all(sample.labels.get(k) == v for k, v in want.items()):
                    if fam.name == "ftth_onu_up":
                        up = sample.value == 1.0
                    else:
                        rx = sample.value
        return OnuReading(up, rx, time.time())


class _SnmpLoop:
    """One event loop thread and one SnmpClient for every check in this process: what SNMPv3 learnt of each
    OLT's engine (ID, boots, time; the keys localised to it) is kept, as the poller does, not once per enrolment."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: SnmpClient | None = None

    def run(self, work: Callable[[SnmpClient], Coroutine[Any, Any, T]]) -> T:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="ftthnoc-verify-snmp", daemon=True).start()
                self._loop = loop
                self._client = asyncio.run_coroutine_threadsafe(_new_client(), loop).result()
            loop, client = self._loop, self._client
        assert client is not None
        return asyncio.run_coroutine_threadsafe(work(client), loop).result()


async def _new_client() -> SnmpClient:
    return SnmpClient()  # made on the loop that will use it


_SNMP = _SnmpLoop()


def read_onu(config: Config, olt: OltSnmp, pon_port: str, ont_id: int, *, timeout: float = 3.0) -> OnuReading:
    """Read one ONU once (the OLT's GPON module, only that ONU's instance where the index allows)."""
    return _SNMP.run(OnuReader(config, olt, pon_port, ont_id, timeout=timeout).read)


def _instances(module: Module, metrics: list[Metric], pon_port: str, ont_id: int) -> list[Oid] | None:
    """Each metric's OID instance for one ONU (``(pon index, ont id)``, with the layout's constant parts
    where it has them: ``(pon index, ont id, 1)`` for ZTE's optics), or None when the module does not
    have both metrics, a layout is not (port, ONU id, constants...) or its port quirk has no inverse."""
    if len(metrics) != len(ONU_METRICS):
        return None
    out: list[Oid] = []
    for metric in metrics:
        instance = _instance(module.indexes.get(metric.index, []), pon_port, ont_id)
        if instance is None:
            return None
        out.append(instance)
    return out


def _instance(parts: list[IndexPart], pon_port: str, ont_id: int) -> Oid | None:
    """One layout's instance of one ONU: the port part, the ONU id part, and constants, in order."""
    labelled = [p for p in parts if p.constant is None]
    if len(labelled) != 2 or labelled[1].quirk is not None:
        return None
    quirk = labelled[0].quirk
    try:
        pon = INDEX_INVERSES[quirk](pon_port) if quirk is not None else int(pon_port)
    except (KeyError, ValueError):
        return None
    values = iter((pon, ont_id))
    return tuple(p.constant if p.constant is not None else next(values) for p in parts)


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    reading: OnuReading
    reason: str


def judge(reading: OnuReading, pon_class: str, thresholds: Thresholds | None) -> Verdict:
    """Runs, and receives light inside the class's critical limits (warnings pass: the dashboards show them)."""
    if reading.error is not None:
        return Verdict(False, reading, f"the SNMP check of the OLT failed: {reading.error}")
    if reading.up is None:
        return Verdict(False, reading, "the OLT does not list the ONU in its SNMP tables")
    if not reading.up:
        return Verdict(False, reading, "the ONU is configured but does not run (no light, or not ranged)")
    if reading.rx_dbm is None:
        return Verdict(False, reading, "the ONU runs but the OLT gives no receive-power reading")
    if thresholds is not None:
        if reading.rx_dbm < thresholds.rx_low_critical:
            return Verdict(False, reading, f"Rx power {reading.rx_dbm:.2f} dBm is below the {pon_class} critical "
                           f"level {thresholds.rx_low_critical:.1f} dBm (dirty connector, bend, or too long a drop)")
        if reading.rx_dbm > thresholds.rx_high_critical:
            return Verdict(False, reading, f"Rx power {reading.rx_dbm:.2f} dBm is above the {pon_class} overload "
                           f"level {thresholds.rx_high_critical:.1f} dBm (an attenuator is missing)")
    return Verdict(True, reading, f"runs, Rx {reading.rx_dbm:.2f} dBm")


def wait_for_onu(config: Config, olt: OltSnmp, pon_port: str, ont_id: int, *, timeout: float,
                 interval: float) -> Verdict:
    """Poll until the ONU runs with a reading, or ``timeout`` passes; then judge the last reading.

    A new ONU needs a while to range and the OLT's agent to show it, so "not yet there" is retried; a
    reading that is there but out of budget is final at once (waiting will not mend a fibre). Concurrent
    checks (enrolments in several threads) share the process's one SNMP client and wait side by side.
    """
    reader = OnuReader(config, olt, pon_port, ont_id)
    thresholds = config.thresholds.get(olt.pon_class)

    async def until_final(client: SnmpClient) -> Verdict:
        deadline = time.monotonic() + timeout
        while True:
            reading = await reader.read(client)
            verdict = judge(reading, olt.pon_class, thresholds)
            final = reading.up is True and reading.rx_dbm is not None
            if verdict.ok or final or time.monotonic() + interval > deadline:
                return verdict
            await asyncio.sleep(interval)

    return _SNMP.run(until_final)
