"""Japan Standard Time, the town's clock: working days, months, quarters and every time a person reads.

Stored times are UTC; JST is for the calendar (a KPI month, the ministry's quarter) and for display.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


def as_utc(value: datetime) -> datetime:
    """A stored time in UTC: SQLite gives naive datetimes back, and every stored time is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
