"""School throughput tests: what MEXT's 当面の推奨帯域 is compared with.

MEXT's recommended bandwidth is an *achievable* throughput measured at the school, not how busy the
uplink happens to be. ``collectors.throughput`` runs iperf3 from each school's probe point to the town's
measurement server (download with ``-R``, then upload; several parallel TCP streams; during class hours)
and hands every result here, failures included: ``record`` keeps them in ``school_throughput_tests``,
``latest`` reads each school's most recent test per direction for the KPI, and ``throughput_families``
turns results into gauges.

The verdict is taken on the **download** figure (server → school: what pupils' tablets receive, the
direction of the speed-test sites of MEXT's 2023 survey); upload is measured and shown beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ftthnoc.inventory.db import session_scope
from ftthnoc.kpi.models import SchoolThroughputTest
from ftthnoc.samples import MetricFamily

Direction = Literal["download", "upload"]
DIRECTIONS: tuple[Direction, ...] = ("download", "upload")
#: the direction whose figure decides the MEXT verdict
VERDICT_DIRECTION: Direction = "download"
#: longest error text kept (the column's width)
ERROR_CHARS = 300

THROUGHPUT = "ftthnoc_school_throughput_bits_per_second"
SUCCESS = "ftthnoc_school_throughput_test_success"
TIMESTAMP = "ftthnoc_school_throughput_test_timestamp_seconds"
FAMILY_NAMES: tuple[str, ...] = (THROUGHPUT, SUCCESS, TIMESTAMP)


@dataclass(frozen=True, slots=True)
class ThroughputResult:
    """One direction of one test: the receiver's bits per second, or why there is none (``error``)."""

    school: str
    direction: Direction
    started_at: datetime
    server: str
    streams: int
    seconds: float
    bits_per_second: float | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.bits_per_second is not None


def clip_error(text: str) -> str:
    """One line, at most ``ERROR_CHARS`` characters (iperf3's own words, never a traceback)."""
    line = " ".join(text.split())
    return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 1] + "…"


def record(engine: Engine, results: Iterable[ThroughputResult]) -> int:
    """Store ``results`` (one transaction); returns how many. Raises what the database raises: the caller
    keeps them and tries again (nothing measured is lost to a database outage)."""
    rows = [SchoolThroughputTest(school=r.school, direction=r.direction, started_at=r.started_at, server=r.server,
                                 streams=r.streams, seconds=r.seconds, bits_per_second=r.bits_per_second,
                                 error=None if r.error is None else clip_error(r.error))
            for r in results]  # fmt: skip
    if rows:
        with session_scope(engine, actor="kpi") as s:
            s.add_all(rows)
    return len(rows)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def latest(session: Session, school: str | None = None, *,
           ok: bool = False) -> dict[str, dict[str, dict[str, Any]]]:  # fmt: skip
    """Each school's most recent test per direction (``ok``: the most recent that worked): school ->
    direction -> {at, mbps (None when it failed), error, server, streams, seconds}."""
    T = SchoolThroughputTest
    newest = select(T.school, T.direction, func.max(T.started_at).label("at")).group_by(T.school, T.direction)
    if school is not None:
        newest = newest.where(T.school == school)
    if ok:
        newest = newest.where(T.bits_per_second.is_not(None))
    sub = newest.subquery()
    stmt = (select(T).join(sub, (T.school == sub.c.school) & (T.direction == sub.c.direction)
                           & (T.started_at == sub.c.at)).order_by(T.id))  # fmt: skip
    if ok:
        stmt = stmt.where(T.bits_per_second.is_not(None))
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in session.scalars(stmt):  # two rows at the same instant: the later id wins
        bps = r.bits_per_second
        out.setdefault(r.school, {})[r.direction] = {
            "at": _aware(r.started_at), "mbps": None if bps is None else round(bps / 1e6, 1), "error": r.error,
            "server": r.server, "streams": r.streams, "seconds": r.seconds}
    return out


def measured(session: Session, school: str | None = None) -> dict[str, dict[str, Any]]:
    """What the MEXT verdict of each tested school reads: school -> {
    ``mbps``/``at``/``streams``/``seconds``/``server``: the latest successful ``VERDICT_DIRECTION`` test (None
    when none worked yet), ``upload_mbps``/``upload_at``: the latest successful upload, ``failed``: the latest
    attempt in either direction when it failed after that success ({at, direction, error}; else None)}."""
    good, last = latest(session, school, ok=True), latest(session, school)
    out: dict[str, dict[str, Any]] = {}
    for code in sorted(set(good) | set(last)):
        down, up = good.get(code, {}).get(VERDICT_DIRECTION), good.get(code, {}).get("upload")
        failures = [(t["at"], d, t["error"]) for d, t in last.get(code, {}).items() if t["mbps"] is None]
        at, direction, error = max(failures, key=lambda f: f[0]) if failures else (None, None, None)
        out[code] = {
            "mbps": down["mbps"] if down else None, "at": down["at"] if down else None,
            "streams": down["streams"] if down else None, "seconds": down["seconds"] if down else None,
            "server": down["server"] if down else None,
            "upload_mbps": up["mbps"] if up else None, "upload_at": up["at"] if up else None,
            "failed": {"at": at, "direction": direction, "error": error} if failures else None,
        }  # fmt: skip
    return out


def throughput_families(results: Iterable[ThroughputResult]) -> list[MetricFamily]:
    """Gauges of the latest result per (school, direction): the measured rate (only when the test worked),
    whether it worked, and when it ran. Labels: the school's code and the direction, nothing else."""
    rate = MetricFamily(THROUGHPUT, "Throughput the school's last active test (iperf3, parallel TCP streams to the "
                                    "town's measurement server) achieved, by direction: download, upload.")
    success = MetricFamily(SUCCESS, "1 if the school's last throughput test in the direction ran, 0 if it failed "
                                    "(server unreachable, iperf3 error).")
    when = MetricFamily(TIMESTAMP, "When the school's last throughput test in the direction started (Unix s).")
    for r in sorted(results, key=lambda r: (r.school, r.direction)):
        labels = {"school": r.school, "direction": r.direction}
        if r.ok and r.bits_per_second is not None:
            rate.add(labels, r.bits_per_second)
        success.add(labels, 1.0 if r.ok else 0.0)
        when.add(labels, _aware(r.started_at).timestamp())
    return [rate, success, when]


__all__: Sequence[str] = ("DIRECTIONS", "FAMILY_NAMES", "VERDICT_DIRECTION", "Direction", "ThroughputResult",
                          "clip_error", "latest", "measured", "record", "throughput_families")
