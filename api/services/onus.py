"""ONUs with the household they serve and their current state from the poller's snapshot (a provider
function handed in by the caller: the service never asks a device)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.services.common import Found, NotFound, Window, page_of
from ftthnoc.inventory.lookup import onu_rows
from ftthnoc.inventory.models import Household, Onu
from ftthnoc.normalise import normalise_serial

log = logging.getLogger(__name__)

#: ``(olt, pon_port, onu_id) -> (up, rx_dbm)`` from the poller's latest snapshot; None where unknown.
OnuStateProvider = Callable[[str, str, int], tuple[bool | None, float | None]]


@dataclass(frozen=True)
class OnuLine:
    """What the latest poll says of one ONU's line; ``polled`` False: no poll has seen it (the rest None)."""

    polled: bool
    up: bool | None = None
    rx_dbm: float | None = None
    #: the last down cause as the module names it (``dying_gasp``, ``los``, ``deactivated``...), if reported
    cause: str | None = None
    #: when it last went down, if the OLT says (Huawei's last-down time)
    down_at: datetime | None = None


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


def _rows() -> tuple[Select[Any], list[Any]]:
    sub = onu_rows(Onu.serial, Household.code, Onu.mgmt_address).subquery()
    columns = list(sub.c)  # olt, port, onu_id, serial, household, mgmt_address, district
    return select(*columns).order_by(columns[0], columns[1], columns[2]), columns


def _state(provider: OnuStateProvider | None, olt: str, port: str, onu_id: int) -> tuple[bool | None, float | None]:
    if provider is None:
        return None, None
    try:
        return provider(olt, port, onu_id)
    except Exception:  # a broken snapshot must not break the inventory view
        log.exception("ONU state provider failed")
        return None, None


def _record(provider: OnuStateProvider | None, row: Any) -> OnuRecord:
    olt, port, onu_id, serial, household, mgmt, district = row
    up, rx = _state(provider, olt, port, onu_id)
    return OnuRecord(serial, olt, port, onu_id, household, district, mgmt, up, rx)


def search(session: Session, state: OnuStateProvider | None, window: Window, *, olt: str | None = None,
           pon_port: str | None = None, district: str | None = None,
           household: str | None = None) -> Found[OnuRecord]:  # fmt: skip
    """ONUs by OLT, port and id; ``district`` is the household's, else the OLT's."""
    stmt, columns = _rows()
    for column, value in ((columns[0], olt), (columns[1], pon_port), (columns[4], household),
                          (columns[6], district)):  # fmt: skip
        if value is not None:
            stmt = stmt.where(column == value)
    rows, total = page_of(session, stmt, window)
    return Found([_record(state, r) for r in rows], total)


def get(session: Session, state: OnuStateProvider | None, serial: str) -> OnuRecord:
    """One ONU by serial in any accepted spelling (``NotFound`` otherwise)."""
    try:
        wanted = normalise_serial(serial)
    except ValueError:
        raise NotFound(f"ONU {serial}") from None
    stmt, columns = _rows()
    row = session.execute(stmt.where(columns[3] == wanted)).first()
    if row is None:
        raise NotFound(f"ONU {serial}")
    return _record(state, row)
