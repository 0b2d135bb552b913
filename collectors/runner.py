"""The scheduler: every target on its own clock, results published to whatever exports them.

Targets are polled independently, each in its own task with its start spread over the interval, so a
dead OLT's timeouts never delay another OLT's poll. The runner knows nothing about Prometheus or
InfluxDB: it hands neutral families to a ``publish`` callable.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence

from collectors.schedule import every
from collectors.snmp.client import Device, SnmpClient
from collectors.snmp.counters import CounterState
from collectors.snmp.decode import Labeler
from collectors.snmp.module import Module, get_module
from collectors.snmp.poll import ModuleResult, poll_device, scrape_families
from ftthnoc import vendors
from ftthnoc.config import Config, Target
from ftthnoc.errors import ConfigError
from ftthnoc.samples import MetricFamily

log = logging.getLogger(__name__)

Publish = Callable[[str, str, list[MetricFamily]], None]
def threshold_families(config: Config) -> list[MetricFamily]:
    olt_modules = vendors.olt_modules()
    fam = MetricFamily("ftth_olt_rx_threshold_dbm", "ONU receive-power alarm levels for the OLT's PON "
                       "class (from configuration), for alert rules to join on olt.")
    for t in config.targets:
        th = config.thresholds.get(t.pon_class)
        if th is None or not any(m in olt_modules for m in t.modules):
            continue
        for level, value in th.model_dump().items():
            fam.add({"olt": t.name, "pon_class": t.pon_class, "level": level.removeprefix("rx_")}, value)
    return [fam]


class Poller:
    def __init__(self, config: Config, publish: Publish, labeler: Labeler | None = None,
                 modules: Mapping[str, Module] | None = None, client: SnmpClient | None = None,
                 publish_private: Publish | None = None) -> None:
        self.config = config
        self.publish = publish
        #: where private families (a VPN's user names, ``ftthnoc.samples.PRIVATE_PREFIX``) go; None: nowhere
        self.publish_private = publish_private
        self.labeler = labeler
        self.extra_modules = dict(modules or {})
        self.client = client or SnmpClient()
        self.counters = CounterState()
        self.errors_total: dict[tuple[str, str], int] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        # set once ``run`` has the loop: a /snmp request may arrive between the exporter's start and the
        # poller's first step, and must wait for it rather than fail
        self._running = threading.Event()
        self.cycles_done: dict[str, int] = {}
        for t in config.targets:  # fail at start-up, not at the first poll, on an unknown module
            for m in t.modules:
                self.module(m)

    def module(self, name: str) -> Module:
        try:
            return get_module(name, self.extra_modules)
        except KeyError as exc:
            raise ConfigError(str(exc.args[0])) from None

    def device(self, target: Target) -> Device:
        return Device.from_target(target, self.config.auths[target.auth])

    async def poll_target(self, target: Target) -> list[MetricFamily]:
        modules = [self.module(m) for m in target.modules]
        # a poll never outlives its interval (unless the module or the target bounds it otherwise)
        results = await poll_device(self.client, self.device(target), modules, self.labeler, self.counters,
                                    seconds=self.config.interval_seconds)
        families: list[MetricFamily] = []
        for r in results:
            if not r.success:
                key = (target.name, r.module)
                self.errors_total[key] = self.errors_total.get(key, 0) + 1
        for r in results:
            self.publish(target.name, r.module, r.families)
            families.extend(r.families)
            if r.private and self.publish_private is not None:
                self.publish_private(target.name, r.module, r.private)
        scrape = scrape_families(target.name, results, self.errors_total)
        self.publish(target.name, "_scrape", scrape)
        self.cycles_done[target.name] = self.cycles_done.get(target.name, 0) + 1
        return families + scrape

    async def run(self, stop: asyncio.Event, cycles: int | None = None) -> None:
        """Poll every target each interval until ``stop`` is set (or ``cycles`` polls each)."""
        self.loop = asyncio.get_running_loop()
        self._running.set()
        self.publish("_config", "_thresholds", threshold_families(self.config))
        tasks = [asyncio.create_task(self._target_loop(t, stop, cycles), name=f"poll {t.name}")
                 for t in self.config.targets]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()

    async def _target_loop(self, target: Target, stop: asyncio.Event, cycles: int | None) -> None:
        interval = self.config.interval_seconds
        # first poll at once (an operator starting ftthnoc wants to see the network now), later ones
        # spread over the interval by a stable per-target offset so that OLTs are not all asked at once
        offset = 0.0 if cycles is not None else (zlib.crc32(target.name.encode()) % 1000) / 1000 * interval

        async def poll() -> None:
            await self.poll_target(target)

        await every(interval, poll, stop, cycles, offset)

    # ------------------------------------------------------------------ the multi-target handler
    def target_for(self, address: str, modules: Sequence[str], auth: str) -> Target:
        if auth not in self.config.auths:
            raise ConfigError(f"unknown auth {auth!r}")
        for m in modules:
            self.module(m)
        known = next((t for t in self.config.targets if t.address == address), None)
        if known is not None:  # a configured device keeps its name, class and gentleness settings
            return known.model_copy(update={"modules": list(modules), "auth": auth})
        return Target(name=address, address=address, modules=list(modules), auth=auth)

    def probe(self, address: str, modules: list[str], auth: str, timeout: float | None = None) -> list[MetricFamily]:
        """Poll one target now, from another thread (the HTTP server's), on the poller's loop.

        The poll is bounded by ``timeout`` (the scraper's own, from its header) or else by the interval,
        and a caller that stops waiting cancels it: no walk outlives the request that started it."""
        target = self.target_for(address, modules, auth)
        seconds = min(timeout, self.config.interval_seconds) if timeout else self.config.interval_seconds
        if not self._running.wait(seconds) or self.loop is None:
            reason = f"the poller did not start within {seconds:g} s"
            return scrape_families(target.name, [ModuleResult(m, [], False, seconds, 0, 0, reason)
                                                 for m in target.modules])

        async def once() -> list[MetricFamily]:
            mods = [self.module(m) for m in target.modules]
            results = await poll_device(self.client, self.device(target), mods, self.labeler, None,
                                        seconds=seconds)
            fams = [f for r in results for f in r.families]
            return fams + scrape_families(target.name, results)

        future = asyncio.run_coroutine_threadsafe(once(), self.loop)
        try:
            return future.result(seconds + 5.0)  # the walk's own bound ends it first; this is a backstop
        except concurrent.futures.TimeoutError:
            # the walk's bound should have ended it: a poller loop starved this long (a machine far beyond
            # its cores) still answers the scrape, with the failure as data like any failed poll
            future.cancel()
            reason = f"the probe did not finish within {seconds + 5.0:g} s (the poller is overloaded)"
            log.warning("probe of %s: %s", target.name, reason)
            return scrape_families(target.name, [ModuleResult(m, [], False, seconds + 5.0, 0, 0, reason)
                                                 for m in target.modules])
        except BaseException:
            future.cancel()  # the caller went away: stop the walk too
            raise
