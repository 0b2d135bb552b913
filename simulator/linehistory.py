"""The simulated town's last week of light levels and flaps, so that a fresh demo's household page has a
sparkline before its second poll (issue #14).

``ftthnoc.linehistory.PollHistory`` (the in-process week the household page reads when no Prometheus is
configured) is fed by polls; a demo starts with none. :func:`seed_line_history` feeds it what the past week's
polls of the simulated town would have published, through ``PollHistory.observe_poll`` itself, as ``Poll``
objects with the families and labels a real poll writes (``ftth_onu_up`` and ``ftth_onu_rx_power_dbm``,
labels ``olt``, ``pon_port``, ``onu_id``, ``district``): one poll of every OLT per past hour of the week
(hourly Rx, at :30), the current hour left to the real polls. About 5 s of CPU for the 7,000-ONU town, before the
first real poll (seeding beside the polls could interleave an old reading between two real ones and count a
flap that never was).

What each ONU shows, deterministic for a town (a CRC of its serial, no random state):

- **Online**: its simulated Rx (``onu.rx_dbm``, what the agent answers) with a small wobble, a daily swing
  of ±0.15 dB and ±0.05 dB of noise per reading, around the same value all week, ending on today's reading.
- **Weak** (``onu.weak``: below the B+ sensitivity): a decline toward today's reading, 1.5 to 3 dB higher a
  week ago, the trend an operator should see coming.
- **Flapping**: one online ONU in ``FLAP_EVERY`` (at least ``FLAP_MIN``), chosen by serial, is down at the
  poll of 4 to 6 separate hours of the week and up again the hour after: "flaps this week" counts them.
- **Down now** (dying gasp, LOS, deactivated): up with a nominal Rx until it went down (by the town's
  own clock, ``TOWN_CLOCK - last_down_at`` before now, where the vendor's tables say; a deterministic hour
  of the week otherwise), then down, so the first real poll finds what the last seeded one left.
- **Came back** (online with a last down time within the week): down in the hours between its last down
  and last up time.

Only the demo calls this (``app.cli.demo`` through ``app.wiring.build(line_seed=...)``); ``serve`` never
seeds. The memory is what the real polls allocate anyway: one ring per ONU (``PollHistory``'s bound).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from ftthnoc.consumers import Poll
from ftthnoc.linehistory import HOURS, RX_FAMILY, STEP_SECONDS, UP_FAMILY, PollHistory
from ftthnoc.samples import MetricFamily, Sample
from simulator.devices import Onu
from simulator.model import Town
from simulator.specs import TOWN_CLOCK

#: one online ONU in this many flaps during the week (and at least FLAP_MIN of the town's)
FLAP_EVERY = 150
FLAP_MIN = 3
#: the minute past each hour of the seeded poll
POLL_MINUTE = 30
#: what an ONU down now read before it went down (dBm, plus 0 to -4 dB by serial): a typical B+ home
NOMINAL_RX_DBM = -20.5
#: the poll module a seeded Poll names (PollHistory reads the families, not the module)
MODULE = "demo_history"
_SWING = [0.15 * math.sin(2 * math.pi * (h + POLL_MINUTE / 60) / 24) for h in range(24)]


@dataclass(frozen=True)
class SeededLines:
    onus: int
    polls: int
    flapping: tuple[tuple[str, str, int], ...]
    declining: tuple[tuple[str, str, int], ...]


def _crc(text: str) -> int:
    return zlib.crc32(text.encode())


def _unit(text: str) -> float:
    """A deterministic number in [0, 1) for ``text``."""
    return (_crc(text) & 0xFFFFFF) / 0x1000000


class _Plan:
    """One ONU's week: its samples' labels, Rx at the week's start and end, the hours it reads down."""

    __slots__ = ("down", "down_from", "key", "phase", "rx_end", "rx_start", "salt", "serial", "up0", "up1")

    def __init__(self, labels: dict[str, str], serial: str, rx_start: float, rx_end: float, down: set[int],
                 down_from: int | None) -> None:
        self.key = (labels["olt"], labels["pon_port"], int(labels["onu_id"]))
        self.serial, self.rx_start, self.rx_end, self.down, self.down_from = serial, rx_start, rx_end, down, down_from
        self.phase = _crc(serial + ":phase") % 24
        self.salt = _crc(serial + ":noise")
        # the up/down samples repeat every hour: made once (a Sample is immutable)
        self.up1, self.up0 = Sample(UP_FAMILY, labels, 1.0), Sample(UP_FAMILY, labels, 0.0)

    def is_up(self, hour: int) -> bool:
        return (self.down_from is None or hour < self.down_from) and hour not in self.down

    def rx(self, hour: int, first: int, span: int) -> float:
        base = self.rx_start + (self.rx_end - self.rx_start) * (hour - first) / span
        noise = 0.1 * (((self.salt ^ (hour * 2654435761)) * 40503 & 0xFFFF) / 0x10000 - 0.5)
        return round(base + _SWING[(hour + self.phase) % 24] + noise, 2)


def _plan(onu: Onu, district: str, first: int, last: int, now_hour: int, flapping: bool) -> _Plan:
    labels = {"olt": onu.olt, "pon_port": onu.pon_port, "onu_id": str(onu.onu_id), "district": district}
    serial = onu.serial
    if not onu.online:  # down now: up until it went down, by the town's clock (or a deterministic hour)
        nominal = NOMINAL_RX_DBM - 4 * _unit(serial + ":nominal")
        if onu.last_down_at is not None:
            went = now_hour - (TOWN_CLOCK - onu.last_down_at) // STEP_SECONDS
        else:
            went = first + int(_unit(serial + ":down") * (last - first + 1))
        return _Plan(labels, serial, nominal, nominal, set(), max(first, went))
    rx = onu.rx_dbm if onu.rx_dbm is not None else NOMINAL_RX_DBM
    start = rx + 1.5 + 1.5 * _unit(serial + ":decline") if onu.weak else rx
    down: set[int] = set()
    if flapping:  # 4 to 6 distinct hours, two apart at least, so that each is one up->down transition
        slots, k = (last - first - 2) // 2, 0
        while len(down) < 4 + _crc(serial + ":flaps") % 3:
            down.add(first + 1 + 2 * (_crc(f"{serial}:flap{k}") % slots))
            k += 1
    elif onu.last_down_at is not None and onu.last_up_at is not None and onu.last_up_at > onu.last_down_at:
        d_hour = now_hour - (TOWN_CLOCK - onu.last_down_at) // STEP_SECONDS
        u_hour = now_hour - (TOWN_CLOCK - onu.last_up_at) // STEP_SECONDS
        down |= set(range(max(first, d_hour), min(last, u_hour - 1) + 1))  # came back since: down till then
    return _Plan(labels, serial, start, rx, down, None)


def seed_line_history(history: PollHistory, town: Town, now: datetime | None = None) -> SeededLines:
    """Feed ``history`` the past week of the town's polls (the hours before ``now``'s), as described above."""
    now = now or datetime.now(UTC)
    now_hour = int(now.timestamp()) // STEP_SECONDS
    first, last = now_hour - HOURS + 1, now_hour - 1
    span = max(1, last - first)
    district_of = {h.onu_serial: h.district for h in town.households if h.onu_serial}
    onus_by_olt = {o.name: list(o.onus()) for o in town.olts}
    online = sorted((u for us in onus_by_olt.values() for u in us if u.online and not u.weak),
                    key=lambda u: _crc(u.serial + ":flapper"))
    flappers = {u.serial for u in online[:max(FLAP_MIN, len(online) // FLAP_EVERY)]}
    plans = {name: [_plan(u, district_of.get(u.serial, town.olt(name).district), first, last, now_hour,
                          u.serial in flappers) for u in us]
             for name, us in onus_by_olt.items()}  # fmt: skip
    polls = 0
    for hour in range(first, last + 1):
        at = datetime.fromtimestamp(hour * STEP_SECONDS + POLL_MINUTE * 60, UTC)
        for name, olt_plans in plans.items():
            up = MetricFamily(UP_FAMILY, "ONU up (1) or down (0), as the OLT reports it.")
            rx = MetricFamily(RX_FAMILY, "ONU receive power in dBm.", unit="dbm")
            ups, rxs = up.samples, rx.samples
            for p in olt_plans:
                if p.is_up(hour):
                    ups.append(p.up1)
                    rxs.append(Sample(RX_FAMILY, p.up1.labels, p.rx(hour, first, span)))
                else:
                    ups.append(p.up0)
            history.observe_poll(Poll(name, MODULE, [up, rx], at))
            polls += 1
    every = [p for ps in plans.values() for p in ps]
    return SeededLines(
        onus=len(every), polls=polls,
        flapping=tuple(sorted(p.key for p in every if p.serial in flappers)),
        declining=tuple(sorted(p.key for p in every if p.down_from is None and p.rx_start - p.rx_end >= 1.0)))
