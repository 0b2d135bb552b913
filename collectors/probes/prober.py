"""One probe cycle of every kind, and the loop that repeats it: the runner's entry point to the probes.

``await Prober(config).cycle()`` returns the families of one ICMP, TCP, ARP, HTTP and DNS cycle run
concurrently; ``Prober.run(stop, publish)`` repeats ICMP, TCP, HTTP and DNS every ``cycle_seconds`` and ARP
every ``arp.cycle_seconds`` and hands each result to ``publish(source, probe, families)`` as the SNMP runner
does. Failures are data: a probe that cannot run at all (no raw-socket permission, an internal error)
reports ``ftthnoc_probe_success{probe} 0`` and the others carry on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from collectors.probes import arp as arp_mod
from collectors.probes import dns as dns_mod
from collectors.probes import families as fam
from collectors.probes import http as http_mod
from collectors.probes.config import ProbeConfig, RegisteredTablet, ServiceTarget
from collectors.probes.engine import IcmpEngine, ProbeError
from collectors.probes.icmp import IcmpState, icmp_cycle
from collectors.probes.tcp import TcpProber
from collectors.schedule import every
from ftthnoc.samples import MetricFamily, merge

log = logging.getLogger(__name__)

#: (source, probe, families): the same shape as ``collectors.runner.Publish``
Publish = Callable[[str, str, list[MetricFamily]], None]
SOURCE = "_probes"


class ServiceState:
    """Consecutive failed cycles per service target, and the last reason said, so that the log tells a
    failure when it starts or changes and a recovery once, not the same line every cycle."""

    def __init__(self, probe: str) -> None:
        self.probe = probe
        self.failed: dict[str, tuple[ServiceTarget, int]] = {}
        self.reasons: dict[str, str] = {}

    def update(self, outcomes: Iterable[tuple[ServiceTarget, bool, str]]) -> MetricFamily:
        seen: dict[str, tuple[ServiceTarget, int]] = {}
        for target, ok, reason in outcomes:
            key = f"{target.kind}/{target.name}"
            before = self.failed.get(key, (target, 0))[1]
            seen[key] = (target, 0 if ok else before + 1)
            if ok and key in self.reasons:
                log.info("%s check of %s %s succeeds again after %d failed cycles", self.probe, target.kind,
                         target.name, before)
                del self.reasons[key]
            elif not ok and self.reasons.get(key) != reason:
                log.warning("%s check of %s %s failed: %s", self.probe, target.kind, target.name, reason)
                self.reasons[key] = reason
        self.failed = seen  # a target removed from the configuration is forgotten
        return fam.failed_cycles_family(self.probe, self.failed)


class Prober:
    """Runs the configured probes; holds only what cumulative metrics need between cycles."""

    def __init__(self, config: ProbeConfig, tablets: Iterable[RegisteredTablet] = ()) -> None:
        self.config = config
        # configuration first, then the inventory's: a MAC appears once, the later entry wins
        merged = {t.mac: t for t in (*config.arp.tablets, *tablets)}
        self.tablets: tuple[RegisteredTablet, ...] = tuple(merged.values())
        self.icmp_state = IcmpState(buckets=config.icmp.buckets)
        self.arp_state = arp_mod.ArpState()
        self.http_state = ServiceState("http")
        self.dns_state = ServiceState("dns")

    async def _guarded(self, probe: str, body: Callable[[], Awaitable[list[MetricFamily]]]) -> list[MetricFamily]:
        start = time.perf_counter()
        try:
            families = await body()
            ok = True
        except ProbeError as exc:
            log.warning("%s probe cannot run: %s", probe, exc)
            families, ok = [], False
        except Exception:  # a bug must cost one cycle of one probe, never the prober
            log.exception("%s probe cycle failed unexpectedly", probe)
            families, ok = [], False
        return families + fam.cycle_families({probe: (ok, time.perf_counter() - start)})

    async def icmp(self) -> list[MetricFamily]:
        """One ICMP cycle over every target with ``icmp`` on; takes about ``cycle_seconds``."""
        targets = self.config.icmp_targets()
        settings = self.config.icmp

        async def body() -> list[MetricFamily]:
            if not targets:
                return []
            async with IcmpEngine(payload_bytes=settings.payload_bytes) as engine:
                results = await icmp_cycle(engine, self.icmp_state, targets, settings.packets,
                                           settings.timeout_seconds, self.config.cycle_seconds)
            return fam.icmp_families(results)

        return await self._guarded("icmp", body)

    async def tcp(self) -> list[MetricFamily]:
        targets = self.config.tcp_targets()
        settings = self.config.tcp

        async def body() -> list[MetricFamily]:
            if not targets:
                return []
            async with TcpProber() as prober:
                results = await prober.check([(t.address, port) for _, t, port in targets],
                                             settings.timeout_seconds, settings.attempts, settings.rate)
            return fam.tcp_families([(kind, t, r) for (kind, t, _), r in zip(targets, results, strict=True)])

        return await self._guarded("tcp", body)

    async def arp(self) -> list[MetricFamily]:
        settings = self.config.arp

        async def body() -> list[MetricFamily]:
            if not settings.subnets:
                return []
            cycle = await arp_mod.arp_cycle(self.arp_state, settings.subnets, self.tablets,
                                            settings.timeout_seconds, settings.retries, settings.rate)
            return fam.arp_families(cycle)

        return await self._guarded("arp", body)

    async def http(self) -> list[MetricFamily]:
        """One GET of every ``http`` target, concurrently (no raw socket: runs without root too)."""
        settings = self.config.http

        async def body() -> list[MetricFamily]:
            if not settings.targets:
                return []
            results = await http_mod.http_cycle(settings.targets, settings)
            failed = self.http_state.update((r.target, r.success, r.reason) for r in results)
            return [*fam.http_families(results), failed]

        return await self._guarded("http", body)

    async def dns(self) -> list[MetricFamily]:
        """One query of every ``dns`` target, concurrently."""
        settings = self.config.dns

        async def body() -> list[MetricFamily]:
            if not settings.targets:
                return []
            results = await dns_mod.dns_cycle(settings.targets, settings)
            failed = self.dns_state.update((r.target, r.success, r.reason) for r in results)
            return [*fam.dns_families(results), failed]

        return await self._guarded("dns", body)

    async def cycle(self) -> list[MetricFamily]:
        """ICMP, TCP, ARP once, and HTTP and DNS when they have targets, concurrently; merged by name."""
        services = [once for once, settings in ((self.http, self.config.http), (self.dns, self.config.dns))
                    if settings.targets]
        parts = await asyncio.gather(self.icmp(), self.tcp(), self.arp(), *(once() for once in services))
        return merge(f for part in parts for f in part)

    async def run(self, stop: asyncio.Event, publish: Publish, cycles: int | None = None) -> None:
        """Repeat each probe on its own clock until ``stop`` is set (or ``cycles`` cycles each)."""
        loops = [
            self._loop("icmp", self.icmp, self.config.cycle_seconds, stop, publish, cycles),
            self._loop("tcp", self.tcp, self.config.cycle_seconds, stop, publish, cycles),
            self._loop("arp", self.arp, self.config.arp.cycle_seconds, stop, publish, cycles),
        ]
        # the service checks run (and report ftthnoc_probe_success{probe}) only when they have targets
        if self.config.http.targets:
            loops.append(self._loop("http", self.http, self.config.cycle_seconds, stop, publish, cycles))
        if self.config.dns.targets:
            loops.append(self._loop("dns", self.dns, self.config.cycle_seconds, stop, publish, cycles))
        await asyncio.gather(*loops)

    async def _loop(self, probe: str, once: Callable[[], Awaitable[list[MetricFamily]]], interval: float,
                    stop: asyncio.Event, publish: Publish, cycles: int | None) -> None:

        async def run() -> None:
            publish(SOURCE, probe, await once())

        await every(interval, run, stop, cycles)
