"""Working days and working hours of the town hall, in Japan time, and the KPI's configuration.

A working day is a weekday (Monday to Friday) that is not a Japanese public holiday (as the
``holidays`` library knows them, substitute holidays and 国民の休日 included) and not one of the extra
closed days (年末年始, 29 December to 3 January, by default). Its working hours run from ``day_start``
to ``day_end`` (08:30–17:15, the town hall's opening hours) or, on a half-day, to that day's own end.
Only these hours count towards the KPI: sessions at night, at weekends and on holidays say nothing
about office attendance.

Japan has no daylight saving time, so JST is a fixed offset and needs no tz database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ftthnoc.targets import TELEWORK_OFFICE_REDUCTION
from ftthnoc.timezone import JST

#: 年末年始: the town hall is closed from 29 December to 3 January.
NEW_YEAR_CLOSURE: tuple[str, ...] = ("12-29", "12-30", "12-31", "01-01", "01-02", "01-03")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


class TeleworkConfig(BaseModel):
    """What the KPI needs to know about the town hall; every rule of thumb is configurable.

    ``closed_days`` holds ``MM-DD`` (closed every year) or ``YYYY-MM-DD`` (closed once); ``half_days``
    maps a date to the time the office closes that day. ``attendance_baseline`` is the share of staff
    who would be in the office on a working day without telework (1.0: everyone). ``gateways`` names the
    VPN gateways whose sessions are counted (None: every gateway that reports).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    staff: int = Field(ge=1)
    day_start: time = time(8, 30)
    day_end: time = time(17, 15)
    closed_days: tuple[str, ...] = NEW_YEAR_CLOSURE
    half_days: dict[date, time] = Field(default_factory=dict)
    target_reduction: float = Field(TELEWORK_OFFICE_REDUCTION, gt=0, le=1)
    attendance_baseline: float = Field(1.0, gt=0, le=1)
    sample_gap_seconds: int = Field(900, gt=0)
    min_coverage: float = Field(0.5, ge=0, le=1)
    gateways: tuple[str, ...] | None = None
    sample_retention_days: int = Field(400, ge=62)

    @field_validator("closed_days", mode="before")
    @classmethod
    def _closed_days_as_text(cls, value: Any) -> Any:
        # YAML reads an unquoted 2026-08-14 as a date: take it as the one-off closure it means.
        if isinstance(value, list | tuple):
            return tuple(v.isoformat() if isinstance(v, date) else v for v in value)
        return value

    @field_validator("closed_days")
    @classmethod
    def _closed_days_valid(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            m = _MONTH_DAY.match(item)
            try:
                if m is not None:
                    date(2024, int(m.group(1)), int(m.group(2)))  # a leap year: 02-29 is allowed
                else:
                    date.fromisoformat(item)
            except ValueError:
                raise ValueError(f"closed day {item!r} is neither MM-DD nor YYYY-MM-DD") from None
        return value

    @model_validator(mode="after")
    def _hours_valid(self) -> TeleworkConfig:
        if self.day_end <= self.day_start:
            raise ValueError(f"day_end {self.day_end} must be after day_start {self.day_start}")
        for day, end in self.half_days.items():
            if not self.day_start < end <= self.day_end:
                raise ValueError(f"half-day {day}: end {end} must be after day_start and not after day_end")
        return self


@dataclass(frozen=True, slots=True)
class WorkWindow:
    """The working hours of one day, as aware UTC datetimes (``start`` included, ``end`` excluded)."""

    day: date
    start: datetime
    end: datetime

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


class WorkingCalendar:
    """Which days are working days and when their working hours are, per ``TeleworkConfig``."""

    def __init__(self, config: TeleworkConfig) -> None:
        self.config = config

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        # Japanese names (文化の日); years are filled in lazily as they are asked for.
        return holidays.country_holidays("JP", language="ja")

    @cached_property
    def _closed_every_year(self) -> frozenset[tuple[int, int]]:
        out: set[tuple[int, int]] = set()
        for item in self.config.closed_days:
            m = _MONTH_DAY.match(item)
            if m is not None:
                out.add((int(m.group(1)), int(m.group(2))))
        return frozenset(out)

    @cached_property
    def _closed_once(self) -> frozenset[date]:
        return frozenset(date.fromisoformat(i) for i in self.config.closed_days if not _MONTH_DAY.match(i))

    def holiday_name(self, day: date) -> str | None:
        """The public holiday's name (Japanese), or None on an ordinary day."""
        name = self._holidays.get(day)
        return None if name is None else str(name)

    def closed_reason(self, day: date) -> str | None:
        """Why ``day`` is not a working day (weekend, holiday: 文化の日, closed), or None if it is one."""
        if day.weekday() >= 5:
            return "weekend"
        name = self.holiday_name(day)
        if name is not None:
            return f"holiday: {name}"
        if day in self._closed_once or (day.month, day.day) in self._closed_every_year:
            return "closed"
        return None

    def is_working_day(self, day: date) -> bool:
        return self.closed_reason(day) is None

    def window(self, day: date) -> WorkWindow | None:
        """The working hours of ``day``, or None when it is not a working day."""
        if not self.is_working_day(day):
            return None
        end = self.config.half_days.get(day, self.config.day_end)
        start_at = datetime.combine(day, self.config.day_start, JST).astimezone(UTC)
        end_at = datetime.combine(day, end, JST).astimezone(UTC)
        return WorkWindow(day, start_at, end_at)

    def working_days(self, year: int, month: int) -> list[date]:
        """The working days of a calendar month, in order."""
        return [d for d in month_days(year, month) if self.is_working_day(d)]


def month_days(year: int, month: int) -> Iterator[date]:
    """Every day of a calendar month."""
    day = date(year, month, 1)
    while day.month == month:
        yield day
        day += timedelta(days=1)


def jst_date(at: datetime) -> date:
    """The date in Japan at an aware instant (naive values are taken as UTC, as SQLite returns them)."""
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return aware.astimezone(JST).date()
