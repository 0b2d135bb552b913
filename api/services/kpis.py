"""The town's KPIs (``ftthnoc.kpi.figures``), computed at most once per cache period, with the per-school
sections (tablets, bandwidth) limited to a school user's own school (``api.services.scope``).

Aggregates only, never personal. The MEXT bandwidth verdict reads the schools' throughput tests from the
database; the uplinks' utilisation peaks (a separate figure) come from a provider the caller hands in
(``app.state.school_peaks_mbps``: a mapping school code -> Mbps, or a callable returning one); without
one ``peak_mbps`` is null.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from api.security import Principal
from api.services.scope import own_school
from ftthnoc.kpi import figures

log = logging.getLogger(__name__)

PeaksProvider = Mapping[str, float] | Callable[[], Mapping[str, float]]


def peaks_of(source: PeaksProvider | None) -> dict[str, float] | None:
    """The schools' measured uplink peaks (Mbps) from ``source``, or None (none, or it failed)."""
    if source is None:
        return None
    try:
        peaks = source() if callable(source) else source
        return {str(k): float(v) for k, v in peaks.items()}
    except Exception:  # a broken snapshot must not break the KPIs
        log.exception("school peaks provider failed")
        return None


class KpiCache:
    """The town's figures, computed at most once per ``ttl`` seconds however many people ask.

    KPIs are published figures, not live state: a dashboard refreshing every few seconds and a room of
    teachers opening the page together must not each recompute them (≈30 ms of CPU with 7,000 homes).
    One caller computes while the others wait for its result; ``generated_at`` says how old they are.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._at = -1e18
        self._data: dict[str, Any] | None = None

    def get(self, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        with self._lock:
            if self._data is None or time.monotonic() - self._at >= self.ttl:
                self._data = compute()
                self._at = time.monotonic()
            return self._data


def overview(session: Session, principal: Principal, now: datetime, peaks: dict[str, float] | None,
             cache: KpiCache | None = None) -> dict[str, Any]:  # fmt: skip
    """``all_kpis`` with the per-school sections limited to the caller's school.

    The cached figures are never changed: a school's view is a new dict around them.
    """

    def compute() -> dict[str, Any]:
        return figures.all_kpis(session, now, peaks_mbps=peaks)

    data = cache.get(compute) if cache is not None else compute()
    school = own_school(principal)
    if school is None:
        return data
    return {
        **data,
        "tablets": {**data["tablets"], "schools": [r for r in data["tablets"]["schools"] if r["school"] == school]},
        "school_bandwidth": [r for r in data["school_bandwidth"] if r["school"] == school],
    }


def subscriptions(session: Session, now: datetime) -> dict[str, Any]:
    return figures.subscriptions(session, now)


def tablets_seen(session: Session, principal: Principal, now: datetime) -> dict[str, Any]:
    """Tablets seen in the last 24 h and 7 days per school (a school user: its own) and town-wide."""
    return figures.tablets_seen(session, now, school=own_school(principal))


def tablets_at_home(session: Session, now: datetime) -> dict[str, Any]:
    """Tablets seen at home per district and town-wide: counts only, the same for every role."""
    return figures.tablets_at_home(session, now)


def school_bandwidth(session: Session, principal: Principal, peaks: dict[str, float] | None,
                     school: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Each school's measured throughput against its MEXT target, and its utilisation peak (a school user: its
    own; ``school``: that one)."""
    mine = own_school(principal)
    if mine is not None and school is not None and school != mine:
        return []
    return figures.school_bandwidth(session, peaks, school=mine or school)


def availability(session: Session) -> list[dict[str, Any]]:
    return figures.availability(session)


def tablets_daily(session: Session, now: datetime) -> list[dict[str, Any]]:
    """The town's share of active tablets synced per day (the GIGA-school trend, every role: a share only)."""
    return figures.tablets_daily(session, now)


def telework_monthly(session: Session, now: datetime) -> list[dict[str, Any]]:
    return figures.telework_monthly(session, now)
