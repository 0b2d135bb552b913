"""Poll one device with its modules; failures come back as data, never as exceptions.

Each (device, module) reports ``ftthnoc_scrape_success``, its duration, varbind count and rejected
readings, as snmp_exporter does per scrape, so that a dead OLT is a 0 on a dashboard and costs only
its own timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from collectors.snmp.client import Device, SnmpClient
from collectors.snmp.counters import CounterState
from collectors.snmp.decode import Labeler, decode_module
from collectors.snmp.module import Module
from ftthnoc.errors import SnmpError, SnmpTimeout
from ftthnoc.samples import MetricFamily, split_private

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ModuleResult:
    module: str
    families: list[MetricFamily]
    success: bool
    duration: float
    varbinds: int
    rejected: int
    error: str | None = None
    #: private families (``ftthnoc.samples.PRIVATE_PREFIX``: a VPN's user names), never in ``families``: only
    #: the poller hands them on, to the consumers that ask for them (``observe_private_poll``)
    private: list[MetricFamily] = field(default_factory=list)
    #: the poll failed because the agent stopped answering (a timeout; a wrong v2c community is silence
    #: too), not because it answered wrongly or without end: what "the OLT is unreachable" rests on
    unanswered: bool = False


async def poll_module(client: SnmpClient, device: Device, module: Module, labeler: Labeler | None = None,
                      counters: CounterState | None = None, seconds: float | None = None) -> ModuleResult:
    """One module of one device. ``seconds`` bounds the poll's wall time unless the module or the target
    sets its own bound (the scheduler passes the interval: a poll must not outlive its interval)."""
    start = time.perf_counter()
    try:
        walk = await client.walk(device, module.roots(), module.limits.limits(seconds))
        if module.expect_rows and walk.varbinds == 0:
            raise SnmpError(device.name, f"no rows in any of the module's {len(walk.columns)} subtrees: the device "
                            f"does not speak {module.name}'s MIB (the wrong module for it?)")
        families, rejected = decode_module(module, module.split(walk.columns), device.name, labeler, counters)
    except SnmpError as exc:
        log.warning("poll failed: %s (module %s)", exc, module.name)
        return ModuleResult(module.name, [], False, time.perf_counter() - start, 0, 0, exc.reason,
                            unanswered=isinstance(exc, SnmpTimeout))
    except Exception as exc:  # a bug or an agent answer nobody foresaw: report, never stop the poller
        log.exception("poll of %s with module %s failed unexpectedly", device.name, module.name)
        return ModuleResult(module.name, [], False, time.perf_counter() - start, 0, 0,
                            f"internal error: {type(exc).__name__}")
    public, private = split_private(families)
    return ModuleResult(module.name, public, True, time.perf_counter() - start, walk.varbinds, rejected,
                        private=private)


async def poll_device(client: SnmpClient, device: Device, modules: Sequence[Module],
                      labeler: Labeler | None = None, counters: CounterState | None = None,
                      seconds: float | None = None) -> list[ModuleResult]:
    """All modules of one device, concurrently under the device's own request limit."""
    return list(await asyncio.gather(*[poll_module(client, device, m, labeler, counters, seconds)
                                       for m in modules]))


def scrape_families(target: str, results: Sequence[ModuleResult],
                    errors_total: dict[tuple[str, str], int] | None = None) -> list[MetricFamily]:
    success = MetricFamily("ftthnoc_scrape_success", "1 if the last poll of this target and module succeeded.")
    duration = MetricFamily("ftthnoc_scrape_duration_seconds", "Wall time of the last poll of this target "
                            "and module.", unit="seconds")
    varbinds = MetricFamily("ftthnoc_scrape_varbinds", "Varbinds returned by the last poll.")
    rejected = MetricFamily("ftthnoc_scrape_rejected_readings", "Readings of the last poll that were "
                            "sentinels, out of range or malformed, and so exported as no reading.")
    unanswered = MetricFamily("ftthnoc_scrape_unanswered", "1 if the last poll failed because the agent stopped "
                              "answering (a timeout), 0 if it answered.")
    errors = MetricFamily("ftthnoc_scrape_errors_total", "Failed polls of this target and module since "
                          "ftthnoc started.", type="counter")
    for r in results:
        lab = {"target": target, "module": r.module}
        success.add(lab, 1.0 if r.success else 0.0)
        duration.add(lab, r.duration)
        varbinds.add(lab, float(r.varbinds))
        rejected.add(lab, float(r.rejected))
        unanswered.add(lab, 1.0 if r.unanswered else 0.0)
        if errors_total is not None:
            errors.add(lab, float(errors_total.get((target, r.module), 0)))
    fams = [success, duration, varbinds, rejected, unanswered]
    if errors_total is not None:
        fams.append(errors)
    return fams
