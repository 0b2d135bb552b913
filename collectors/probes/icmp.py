"""ICMP cycle results: what one burst says about each target, and the running state across cycles.

Prometheus histograms and ``_total`` counters are cumulative, and RFC 3550's interarrival jitter is a
running estimate, so these three survive between cycles (``IcmpState``); everything else is the last
cycle's. A target that never answers is 100 % loss with no RTT figures: data, not an error.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

from collectors.probes.config import DEFAULT_RTT_BUCKETS, ProbeTarget
from collectors.probes.engine import BurstResult, IcmpEngine


@dataclass(frozen=True, slots=True)
class PingStats:
    """One target's last cycle: packets sent and answered, RTT min/avg/max (None without replies)."""

    sent: int
    received: int
    min: float | None
    avg: float | None
    max: float | None
    send_errors: int = 0

    @property
    def loss_ratio(self) -> float:
        return 1.0 - self.received / self.sent if self.sent else 1.0


def ping_stats(rtts: Sequence[float | None], send_errors: int = 0) -> PingStats:
    got = [r for r in rtts if r is not None]
    if not got:
        return PingStats(len(rtts), 0, None, None, None, send_errors)
    return PingStats(len(rtts), len(got), min(got), sum(got) / len(got), max(got), send_errors)


@dataclass(slots=True)
class Jitter:
    """RFC 3550 §6.4.1 interarrival jitter, J += (|D(i-1,i)| - J) / 16, over consecutive replies.

    With round trips, D is the difference of two consecutive packets' RTTs (the send spacing cancels).
    Lost packets are skipped: the difference is taken between the replies that did arrive, in order.
    """

    value: float = 0.0
    last: float | None = None
    differences: int = 0

    def update(self, rtts: Sequence[float | None]) -> None:
        for r in rtts:
            if r is None:
                continue
            if self.last is not None:
                self.value += (abs(r - self.last) - self.value) / 16.0
                self.differences += 1
            self.last = r


@dataclass(slots=True)
class Histogram:
    """Cumulative response-time histogram of one target (non-cumulative bucket counts internally)."""

    bounds: tuple[float, ...]
    counts: list[int]
    total: float = 0.0
    count: int = 0

    @classmethod
    def empty(cls, bounds: tuple[float, ...]) -> Histogram:
        return cls(bounds, [0] * (len(bounds) + 1))

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1  # le: value <= bound
        self.total += value
        self.count += 1

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, count ≤ bound) per bucket, ending with (inf, count)."""
        out: list[tuple[float, int]] = []
        acc = 0
        for bound, c in zip((*self.bounds, float("inf")), self.counts, strict=True):
            acc += c
            out.append((bound, acc))
        return out


@dataclass(slots=True)
class TargetState:
    requests: int = 0
    responses: int = 0
    histogram: Histogram | None = None
    jitter: Jitter = field(default_factory=Jitter)


@dataclass(slots=True)
class IcmpState:
    """What survives between cycles, per (kind, target name)."""

    buckets: tuple[float, ...] = DEFAULT_RTT_BUCKETS
    targets: dict[tuple[str, str], TargetState] = field(default_factory=dict)

    def get(self, kind: str, name: str) -> TargetState:
        st = self.targets.get((kind, name))
        if st is None or st.histogram is None or st.histogram.bounds != self.buckets:
            st = TargetState(histogram=Histogram.empty(self.buckets))
            self.targets[(kind, name)] = st
        return st


@dataclass(frozen=True, slots=True)
class IcmpResult:
    """One target after a cycle: the cycle's figures and its (updated) running state."""

    kind: str
    target: ProbeTarget
    stats: PingStats
    state: TargetState


def account(state: IcmpState, targets: Sequence[tuple[str, ProbeTarget]], burst: BurstResult) -> list[IcmpResult]:
    """Fold one burst into the running state; targets sharing an address share its packets."""
    by_address = {a: i for i, a in enumerate(burst.addresses)}
    results: list[IcmpResult] = []
    for kind, target in targets:
        i = by_address[target.address]
        rtts = burst.rtts[i]
        stats = ping_stats(rtts, burst.send_errors[i])
        st = state.get(kind, target.name)
        st.requests += stats.sent
        st.responses += stats.received
        hist = st.histogram
        assert hist is not None
        for r in rtts:
            if r is not None:
                hist.observe(r)
        st.jitter.update(rtts)
        results.append(IcmpResult(kind, target, stats, st))
    return results


async def icmp_cycle(engine: IcmpEngine, state: IcmpState, targets: Sequence[tuple[str, ProbeTarget]],
                     packets: int, timeout: float, cycle_seconds: float) -> list[IcmpResult]:
    """One smokeping-style cycle: ``packets`` echoes per target spread over ``cycle_seconds``.

    The last packets leave one timeout before the cycle ends, so that a cycle's answers are in before
    the next cycle starts.
    """
    addresses = list(dict.fromkeys(t.address for _, t in targets))
    period = max(cycle_seconds - timeout, 0.0) / packets
    burst = await engine.burst(addresses, packets, period, timeout)
    return account(state, targets, burst)
