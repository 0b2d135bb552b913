"""ONUs with the household they serve and their current state from the poller's snapshot (a provider
function handed in by the caller: the service never asks a device).

With poller shards (``serve --shard``), the snapshot of the process that serves the API holds only its own
OLTs. ``Live`` says what to do with the others: the shared time-series store (``ftthnoc.livestore``,
one query per request for the OLTs of the page) gives their ONUs' latest ``up`` and Rx with the reading's
age; a store that does not answer, an ONU it has no reading of, or an OLT whose shard is silent (the
heartbeats, ``ftthnoc.pollers``) make the live fields ``unknown`` with the reason, never a failed request
and never an old value shown as current."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, runtime_checkable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.services.common import Found, NotFound, Window, page_of
from ftthnoc.inventory.lookup import onu_rows
from ftthnoc.inventory.models import Household, Onu
from ftthnoc.livestore import HistoryUnavailable, StoreReading
from ftthnoc.normalise import normalise_serial
from ftthnoc.pollers import Silence, polling

log = logging.getLogger(__name__)

#: ``(olt, pon_port, onu_id) -> (up, rx_dbm)`` from the poller's latest snapshot; None where unknown.
OnuStateProvider = Callable[[str, str, int], tuple[bool | None, float | None]]


#: where an ONU's live fields come from: this process's own poll, the shared store, or nobody now
LiveSource = Literal["poll", "store", "unknown"]


@dataclass(frozen=True)
class Unknown:
    """Why an ONU's live state is unknown now, kept apart so a page can say it in its language: its shard is
    silent (``silence``), the store did not answer (``detail``: its words), or the store holds no reading of
    it in the last ``lookback_seconds``. ``text()`` is the API's English sentence."""

    kind: Literal["silent", "store_failed", "no_reading"]
    silence: Silence | None = None
    detail: str | None = None
    lookback_seconds: int | None = None

    def text(self) -> str:
        if self.silence is not None:
            return self.silence.reason()
        if self.kind == "store_failed":
            return f"the time-series store did not answer: {self.detail}"
        return f"the time-series store has no reading of it in the last {self.lookback_seconds} s"


@dataclass(frozen=True)
class OnuLine:
    """What the latest poll says of one ONU's line; ``polled`` False: no poll has seen it (the rest None).
    ``source`` ``store``: another shard's poll read from the shared store, ``age_seconds`` old; ``unknown``:
    nobody can say now, ``unknown`` says why (None: this process's own snapshot, as before shards)."""

    polled: bool
    up: bool | None = None
    rx_dbm: float | None = None
    #: the last down cause as the module names it (``dying_gasp``, ``los``, ``deactivated``...), if reported
    cause: str | None = None
    #: when it last went down, if the OLT says (Huawei's last-down time)
    down_at: datetime | None = None
    source: LiveSource | None = None
    age_seconds: float | None = None
    unknown: Unknown | None = None


NOT_POLLED = OnuLine(polled=False)


@runtime_checkable
class OnuLineProvider(Protocol):
    """A state provider that also tells the last down cause and time (``api.service.SnapshotOnuState``)."""

    def line(self, olt: str, pon_port: str, onu_id: int) -> OnuLine: ...


def line_of(provider: OnuStateProvider | None, olt: str, pon_port: str, onu_id: int) -> OnuLine:
    """One ONU's line from the snapshot: with cause and time where the provider knows them, else up and
    Rx only; a provider that fails or knows nothing of the ONU gives ``NOT_POLLED``."""
    if provider is None:
        return NOT_POLLED
    try:
        if isinstance(provider, OnuLineProvider):
            return provider.line(olt, pon_port, onu_id)
        up, rx = provider(olt, pon_port, onu_id)
    except Exception:  # a broken snapshot must not break the household page
        log.exception("ONU state provider failed")
        return NOT_POLLED
    if up is None and rx is None:
        return NOT_POLLED
    return OnuLine(True, up, rx)


class LiveStore(Protocol):
    """The shared time-series store's latest readings (``ftthnoc.livestore.PrometheusLatest``)."""

    lookback_seconds: int

    def latest(self, olts: Collection[str], now: datetime | None = None) -> dict[tuple[str, str, int],
                                                                                   StoreReading]: ...


@dataclass(frozen=True)
class Live:
    """What the process knows beyond its own snapshot: the store (None: none configured) and the OLTs it
    polls itself (None: not known, any OLT the snapshot knows nothing of is asked of the store)."""

    store: LiveStore | None = None
    own_olts: frozenset[str] | None = None


@dataclass(frozen=True)
class OnuRecord:
    serial: str
    olt: str
    pon_port: str
    onu_id: int
    household: str | None
    district: str
    mgmt_address: str | None
    up: bool | None
    rx_dbm: float | None
    live: LiveSource | None = None
    live_age_seconds: float | None = None
    live_reason: str | None = None


@dataclass
class Lives:
    """One request's live state beyond the process's own snapshot: the silent shards' OLTs (the heartbeats)
    and the store's answer for the OLTs it was asked about (once), or why not. Shared by the ONU list and
    the household page (``api.services.lines``)."""

    live: Live
    silent: Mapping[str, Silence]
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    readings: dict[tuple[str, str, int], StoreReading] = field(default_factory=dict)
    asked: frozenset[str] = frozenset()
    #: the store's words when it did not answer
    failed: str | None = None

    @classmethod
    def load(cls, session: Session, live: Live | None) -> Lives:
        """The silent shards' OLTs now (one query); the store is asked later, by ``ask_for``."""
        return cls(live or Live(), polling(session).silent)

    def ask_for(self, olts: Iterable[str]) -> None:
        """One store query for those of ``olts`` (ones the snapshot has nothing of) it should answer: not a
        silent shard's, not one this process polls, and only with a store configured."""
        self.ask(sorted({o for o in olts if o not in self.silent and _wants_store(self.live, o)}))

    def ask(self, olts: Collection[str]) -> None:
        self.asked = frozenset(olts)
        if not olts or self.live.store is None:
            return
        try:
            self.readings = self.live.store.latest(olts, self.now)
        except HistoryUnavailable as exc:
            log.warning("ONU live readings: the store did not answer (%s)", exc)
            self.failed = str(exc)

    def of(self, olt: str, port: str, onu_id: int) -> StoreReading | Unknown | None:
        """An ONU's state beyond the snapshot: the store's reading, or why it is unknown now (a silent
        shard's OLT, whatever a snapshot holds); None: nothing beyond the snapshot applies to it."""
        if olt in self.silent:
            return Unknown("silent", silence=self.silent[olt])
        if olt not in self.asked or self.live.store is None:
            return None
        if self.failed is not None:
            return Unknown("store_failed", detail=self.failed)
        reading = self.readings.get((olt, port, onu_id))
        if reading is None:
            return Unknown("no_reading", lookback_seconds=self.live.store.lookback_seconds)
        return reading

    def resolve(self, olt: str, port: str, onu_id: int, line: OnuLine) -> OnuLine:
        """An ONU's line as the ONU list and the household page show it, decided here once: the snapshot's
        while its OLT's shard is not silent, else (and where the snapshot has nothing of it) what the store
        says with its age, or why nobody can say now."""
        if line.polled and olt not in self.silent:
            return line
        found = self.of(olt, port, onu_id)
        if found is None:
            return line
        if isinstance(found, Unknown):
            return OnuLine(polled=False, source="unknown", unknown=found)
        return OnuLine(polled=True, up=found.up, rx_dbm=found.rx_dbm, source="store",
                       age_seconds=round(found.age_seconds(self.now), 1))  # fmt: skip


def _rows() -> tuple[Select[Any], list[Any]]:
    sub = onu_rows(Onu.serial, Household.code, Onu.mgmt_address).subquery()
    columns = list(sub.c)  # olt, port, onu_id, serial, household, mgmt_address, district
    return select(*columns).order_by(columns[0], columns[1], columns[2]), columns


def _snapshot_line(provider: OnuStateProvider | None, olt: str, port: str, onu_id: int) -> OnuLine:
    """Up and Rx from the snapshot (``NOT_POLLED`` where it has neither, or the provider fails)."""
    if provider is None:
        return NOT_POLLED
    try:
        up, rx = provider(olt, port, onu_id)
    except Exception:  # a broken snapshot must not break the inventory view
        log.exception("ONU state provider failed")
        return NOT_POLLED
    return NOT_POLLED if up is None and rx is None else OnuLine(True, up, rx)


def _wants_store(live: Live, olt: str) -> bool:
    """Whether the store is asked for an OLT's ONUs the snapshot has nothing of: one is configured and the
    OLT is not one this process polls."""
    return live.store is not None and (live.own_olts is None or olt not in live.own_olts)


def _records(session: Session, provider: OnuStateProvider | None, live: Live | None,
             rows: list[Any]) -> list[OnuRecord]:
    """The rows as records, their live fields from the snapshot, else (one query for all) from the store."""
    if provider is None and live is None:  # the inventory alone (a household's serials): no live fields
        return [_bare(r) for r in rows]
    seen = [_snapshot_line(provider, r[0], r[1], r[2]) for r in rows]
    lives = Lives.load(session, live)
    lives.ask_for(r[0] for r, line in zip(rows, seen, strict=True) if not line.polled)
    return [_record(row, lives.resolve(row[0], row[1], row[2], line)) for row, line in zip(rows, seen, strict=True)]


def _bare(row: Any) -> OnuRecord:
    olt, port, onu_id, serial, household, mgmt, district = row
    return OnuRecord(serial, olt, port, onu_id, household, district, mgmt, None, None)


def _record(row: Any, line: OnuLine) -> OnuRecord:
    base = _bare(row)
    if line.unknown is not None:
        return replace(base, live="unknown", live_reason=line.unknown.text())
    if line.source == "store":
        return replace(base, up=line.up, rx_dbm=line.rx_dbm, live="store", live_age_seconds=line.age_seconds)
    if line.polled:  # this process's own poll
        return replace(base, up=line.up, rx_dbm=line.rx_dbm, live="poll")
    return base


def search(session: Session, state: OnuStateProvider | None, window: Window, *, olt: str | None = None,
           pon_port: str | None = None, district: str | None = None,
           household: str | None = None, live: Live | None = None) -> Found[OnuRecord]:  # fmt: skip
    """ONUs by OLT, port and id; ``district`` is the household's, else the OLT's. ``live``: where the
    live fields of ONUs the snapshot does not have come from (one store query for the page)."""
    stmt, columns = _rows()
    for column, value in ((columns[0], olt), (columns[1], pon_port), (columns[4], household),
                          (columns[6], district)):  # fmt: skip
        if value is not None:
            stmt = stmt.where(column == value)
    rows, total = page_of(session, stmt, window)
    return Found(_records(session, state, live, list(rows)), total)


def get(session: Session, state: OnuStateProvider | None, serial: str, live: Live | None = None) -> OnuRecord:
    """One ONU by serial in any accepted spelling (``NotFound`` otherwise)."""
    try:
        wanted = normalise_serial(serial)
    except ValueError:
        raise NotFound(f"ONU {serial}") from None
    stmt, columns = _rows()
    row = session.execute(stmt.where(columns[3] == wanted)).first()
    if row is None:
        raise NotFound(f"ONU {serial}")
    return _records(session, state, live, [row])[0]
