"""The telework KPI as gauges, for whichever exporter publishes them.

``period="day"`` is today so far, ``period="month"`` this month's final working days (see
``ftthnoc.telework.kpi`` for the definition). A period without a figure (a day off, before 08:30, too
little coverage, the first day of a month) has **no sample** rather than a 0: a 0 would claim that
nobody worked remotely. Labels name the period and the source the figure comes from
(``source="attendance|lgwan_csv|vpn_users|vpn_sessions"``, ``ftthnoc.telework.sources``): no gateway user, no
person, ever.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ftthnoc.samples import MetricFamily
from ftthnoc.telework.calendar import TeleworkConfig

if TYPE_CHECKING:  # kpi imports this module: types only, to keep the import graph one-way
    from ftthnoc.telework.kpi import DayFigure, MonthFigure
    from ftthnoc.telework.sources import SourceDay, SourceMonth

FAMILY_NAMES: tuple[str, ...] = (
    "ftthnoc_telework_remote_share_ratio",
    "ftthnoc_telework_office_reduction_ratio",
    "ftthnoc_telework_target_ratio",
    "ftthnoc_telework_target_attainment_ratio",
    "ftthnoc_telework_staff",
    "ftthnoc_telework_coverage_ratio",
    "ftthnoc_telework_figures_counted",
)


def telework_families(
    config: TeleworkConfig,
    today: DayFigure | None,
    month: MonthFigure,
    *,
    chosen: SourceMonth | None = None,
    today_users: SourceDay | None = None,
) -> list[MetricFamily]:
    """Gauges for today so far and this month; the configured target and headcount always.

    ``chosen``: this month from the source ``ftthnoc.telework.sources.month_figure`` chose (default: the VPN
    session mean, ``month``); ``today_users``: today's distinct VPN users so far, shown instead of the session
    mean when there is one.
    """
    share = MetricFamily(
        "ftthnoc_telework_remote_share_ratio",
        "Share of staff working remotely (period: day = today so far, month = this month's finished working "
        "days; source: attendance, lgwan_csv, vpn_users = staff-days teleworking / staff-days, vpn_sessions = "
        "time-weighted mean VPN sessions / staff).",
    )
    reduction = MetricFamily(
        "ftthnoc_telework_office_reduction_ratio",
        "Office attendance reduction against the no-telework baseline (= remote share at baseline 1.0).",
    )
    target = MetricFamily("ftthnoc_telework_target_ratio", "The plan's office attendance reduction target.")
    attainment = MetricFamily(
        "ftthnoc_telework_target_attainment_ratio", "Office attendance reduction / target (1 = target met)."
    )
    staff = MetricFamily("ftthnoc_telework_staff", "Staff headcount the remote share is a share of.")
    coverage = MetricFamily(
        "ftthnoc_telework_coverage_ratio",
        "Share of today's working time so far with session samples from every counted VPN gateway.",
    )
    counted = MetricFamily(
        "ftthnoc_telework_figures_counted", "Finished working days of this month with a figure (the month's mean)."
    )
    target.add({}, config.target_reduction)
    staff.add({}, float(config.staff))
    day_row: tuple[str, str, float | None, float | None, float | None]
    if today_users is not None:
        day_row = (
            "day",
            "vpn_users",
            today_users.remote_share,
            today_users.office_reduction,
            today_users.target_attainment,
        )
    else:
        day_row = (
            "day",
            "vpn_sessions",
            today.remote_share if today else None,
            today.office_reduction if today else None,
            today.target_attainment if today else None,
        )
    if chosen is not None:
        month_row = ("month", chosen.source, chosen.remote_share, chosen.office_reduction, chosen.target_attainment)
        month_days = chosen.days_with_figure
    else:
        month_row = ("month", "vpn_sessions", month.remote_share, month.office_reduction, month.target_attainment)
        month_days = month.days_with_figure
    for period, source, share_value, reduction_value, attainment_value in (day_row, month_row):
        labels = {"period": period, "source": source}
        if share_value is not None:
            share.add(labels, share_value)
        if reduction_value is not None:
            reduction.add(labels, reduction_value)
        if attainment_value is not None:
            attainment.add(labels, attainment_value)
    if today is not None:
        coverage.add({"period": "day"}, today.coverage)
    counted.add({"period": "month", "source": month_row[1]}, float(month_days))
    return [share, reduction, target, attainment, staff, coverage, counted]
