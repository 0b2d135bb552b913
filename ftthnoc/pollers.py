"""Which OLTs nobody polls: the ``serve --shard I/N`` pollers' heartbeats in the shared database.

A prefecture runs N pollers, each with its own incident engine, all writing to one PostgreSQL. When one
poller dies, the targets it owned must read *unknown* — not healthy (nothing says they are down) and not
down (nothing says that either). Prometheus learns it from ``ftthnoc_shard_target`` and ``up``; the API
and the incident pages learn it here: each shard upserts one ``poller_shards`` row (its last completed
poll, its interval, its targets) as it polls (``Heartbeat``), and ``unpolled`` reads the shards whose
last poll is older than ``SILENT_INTERVALS`` intervals. The database is the one thing every process
shares already, so no extra service (no consensus, no leases) is needed for this.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ftthnoc.consumers import Poll
from ftthnoc.inventory.models import PollerShard
from ftthnoc.shard import Shard

log = logging.getLogger(__name__)

#: a shard whose last completed poll is older than this many of its intervals is silent
SILENT_INTERVALS = 2.0
#: a heartbeat is written at most this often per interval (the OLTs' polls spread over the interval)
BEATS_PER_INTERVAL = 4


@dataclass(frozen=True, slots=True)
class Silence:
    """Why a target is unknown: its shard's poller has not finished a poll since ``since``."""

    shard: str
    since: datetime

    def reason(self) -> str:
        return f"nobody polls it (shard {self.shard} silent since {self.since.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC)"


@dataclass(frozen=True, slots=True)
class Polling:
    """Every sharded target's poller: ``polled_by`` ("I/N") and, when that poller is silent, why."""

    polled_by: dict[str, str]
    silent: dict[str, Silence]

    @property
    def sharded(self) -> bool:
        return bool(self.polled_by)

    def state(self, target: str) -> Literal["polled", "unknown", "unsharded"]:
        """``polled``, ``unknown`` (its poller is silent) or ``unsharded`` (no shard heartbeats for it)."""
        if target in self.silent:
            return "unknown"
        return "polled" if target in self.polled_by else "unsharded"


def polling(session: Session, now: datetime | None = None) -> Polling:
    """Who polls what, from the heartbeats of the newest shard count (rows of an older split, before a
    re-shard, are ignored: their targets belong to the new shards)."""
    now = now or datetime.now(UTC)
    rows = list(session.scalars(select(PollerShard).order_by(PollerShard.last_poll_at.desc())))
    if not rows:
        return Polling({}, {})
    count = rows[0].shard_count
    polled_by: dict[str, str] = {}
    silent: dict[str, Silence] = {}
    for row in rows:
        if row.shard_count != count:
            continue
        last = row.last_poll_at if row.last_poll_at.tzinfo else row.last_poll_at.replace(tzinfo=UTC)
        quiet = now - last > timedelta(seconds=SILENT_INTERVALS * row.interval_seconds)
        for target in row.targets:
            polled_by[target] = row.shard
            if quiet:
                silent[target] = Silence(row.shard, last)
    return Polling(polled_by, silent)


class Heartbeat:
    """A ``PollConsumer`` (run behind ``OffLoop``: it writes to the database) that records this shard's
    last completed poll at most ``BEATS_PER_INTERVAL`` times per interval. A failed write is logged and
    tried again with the next poll; the polls never wait for it."""

    def __init__(self, sessions: Callable[[], Session], shard: Shard, targets: Sequence[str],
                 interval_seconds: float, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._sessions = sessions
        self.shard = shard
        self.targets = sorted(targets)
        self.interval = interval_seconds
        self._clock = clock
        self._last: datetime | None = None
        self._lock = threading.Lock()
        self.beat(start=True)

    def beat(self, start: bool = False) -> None:
        """Upsert this shard's row (at start, also forget rows of another shard count: a re-shard)."""
        now = self._clock()
        try:
            with self._sessions() as s:
                if start:
                    s.execute(delete(PollerShard).where(PollerShard.shard_count != self.shard.count))
                s.merge(PollerShard(shard=str(self.shard), shard_index=self.shard.index,
                                    shard_count=self.shard.count, interval_seconds=self.interval,
                                    last_poll_at=now, targets=self.targets))
                s.commit()
        except SQLAlchemyError as exc:
            log.warning("shard %s: heartbeat not written (%s); tried again with the next poll",
                        self.shard, type(exc).__name__)
            return
        self._last = now

    def observe_poll(self, poll: Poll) -> None:
        with self._lock:
            now = self._clock()
            if self._last is None or (now - self._last).total_seconds() >= self.interval / BEATS_PER_INTERVAL:
                self.beat()
