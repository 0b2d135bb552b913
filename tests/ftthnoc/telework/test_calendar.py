"""Working days and hours: weekends, the library's public holidays, 年末年始, one-off closures, half-days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import yaml
from pydantic import ValidationError

from ftthnoc.telework.calendar import TeleworkConfig, WorkingCalendar, jst_date, month_days

from .conftest import HALF_DAY, JP_HOLIDAYS, config


def test_november_2026_working_days_are_the_weekdays_the_library_does_not_call_holidays() -> None:
    cal = WorkingCalendar(config())
    # Let the library decide which days are holidays; it names 文化の日 and 勤労感謝の日 this month.
    assert date(2026, 11, 3) in JP_HOLIDAYS and date(2026, 11, 23) in JP_HOLIDAYS
    expected = [d for d in month_days(2026, 11) if d.weekday() < 5 and d not in JP_HOLIDAYS]
    assert cal.working_days(2026, 11) == expected
    assert len(expected) == 19
    assert cal.closed_reason(date(2026, 11, 3)) == "holiday: 文化の日"
    assert cal.closed_reason(date(2026, 11, 23)) == "holiday: 勤労感謝の日"
    assert cal.closed_reason(date(2026, 11, 7)) == "weekend"


def test_substitute_holidays_come_from_the_library_too() -> None:
    cal = WorkingCalendar(config())
    may = [d for d in month_days(2026, 5) if d in JP_HOLIDAYS and d.weekday() < 5]
    assert date(2026, 5, 6) in may  # 振替休日 for 憲法記念日 on a Sunday
    assert not any(cal.is_working_day(d) for d in may)


def test_new_year_closure_by_default_and_configurable() -> None:
    cal = WorkingCalendar(config())
    assert cal.is_working_day(date(2026, 12, 28))
    for day in (date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)):
        assert cal.closed_reason(day) == "closed"
    assert not cal.is_working_day(date(2027, 1, 1))  # a holiday anyway
    assert cal.closed_reason(date(2027, 1, 3)) == "weekend"
    assert cal.is_working_day(date(2027, 1, 4))
    open_all_year = WorkingCalendar(config(closed_days=[]))
    assert open_all_year.is_working_day(date(2026, 12, 29))


def test_one_off_closed_days_also_as_yaml_dates() -> None:
    doc = yaml.safe_load("staff: 10\nclosed_days: [12-29, 2026-08-14]\n")
    assert isinstance(doc["closed_days"][1], date)  # YAML reads it as a date: accepted
    cal = WorkingCalendar(TeleworkConfig(**doc))
    assert cal.closed_reason(date(2026, 8, 14)) == "closed"
    assert cal.is_working_day(date(2027, 8, 13))
    assert cal.closed_reason(date(2027, 12, 29)) == "closed"
    assert cal.is_working_day(date(2026, 12, 30))  # the default closure was replaced


def test_windows_are_jst_working_hours_and_half_days_end_early() -> None:
    cal = WorkingCalendar(config())
    w = cal.window(date(2026, 11, 2))
    assert w is not None
    assert (w.start, w.end) == (datetime(2026, 11, 1, 23, 30, tzinfo=UTC), datetime(2026, 11, 2, 8, 15, tzinfo=UTC))
    assert w.seconds == 8 * 3600 + 45 * 60
    half = cal.window(HALF_DAY)
    assert half is not None and half.end == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    assert half.seconds == 3 * 3600 + 30 * 60
    assert cal.window(date(2026, 11, 3)) is None
    assert jst_date(datetime(2026, 11, 1, 15, 0, tzinfo=UTC)) == date(2026, 11, 2)
    assert jst_date(datetime(2026, 11, 1, 14, 59)) == date(2026, 11, 1)  # naive is UTC


def test_half_day_on_a_holiday_is_still_no_working_day() -> None:
    cal = WorkingCalendar(config(half_days={date(2026, 11, 3): time(12, 0)}))
    assert cal.window(date(2026, 11, 3)) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"staff": 0},
        {"staff": 10, "day_start": "17:15", "day_end": "08:30"},
        {"staff": 10, "half_days": {"2026-11-30": "18:00"}},
        {"staff": 10, "half_days": {"2026-11-30": "08:00"}},
        {"staff": 10, "closed_days": ["13-40"]},
        {"staff": 10, "closed_days": ["2026-02-30"]},
        {"staff": 10, "target_reduction": 0},
        {"staff": 10, "attendance_baseline": 1.5},
        {"staff": 10, "unknown": 1},
    ],
)
def test_bad_configuration_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        TeleworkConfig(**bad)  # type: ignore[arg-type]


def test_configuration_parses_times_and_dates_from_text() -> None:
    cfg = TeleworkConfig(staff=120, day_start="08:45", half_days={"2026-12-28": "12:00"})  # type: ignore[arg-type]
    assert cfg.day_start == time(8, 45)
    assert cfg.half_days == {date(2026, 12, 28): time(12, 0)}
    assert cfg.target_reduction == 0.30 and cfg.sample_gap_seconds == 900 and cfg.min_coverage == 0.5
    assert cfg.attendance_baseline == 1.0 and cfg.gateways is None
    assert timedelta(seconds=cfg.sample_gap_seconds) == timedelta(minutes=15)
