"""The KPI figures, computed from the inventory and what the recorder kept (never from a device).

Every function returns plain dicts and lists (JSON as is), so the API serves them unchanged and the
flat ``rows`` forms feed Grafana's Infinity data source without transformation.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ftthnoc.incidents.models import Incident
from ftthnoc.inventory.models import District, Household, HouseholdStatus, LineLease, School, Tablet, TabletAddress
from ftthnoc.kpi import throughput
from ftthnoc.kpi.models import AvailabilityMonth, HouseholdStatusChange, SchoolUplinkPeak
from ftthnoc.targets import FTTH_SUBSCRIBERS, TELEWORK_OFFICE_REDUCTION
from ftthnoc.telework.models import TeleworkDay, TeleworkSourceDay
from ftthnoc.telework.sources import TITLES, month_figure
from ftthnoc.timezone import JST

#: MEXT's recommended school bandwidth (当面の推奨帯域, 2024): (pupils, Mbps), interpolated linearly
MEXT_BANDWIDTH: tuple[tuple[int, int], ...] = (
    (60, 108), (120, 216), (180, 323), (280, 408), (560, 525), (770, 607), (1050, 711), (1400, 834),
)  # fmt: skip


def mext_mbps(pupils: int) -> float:
    """The recommended Mbps for a school of ``pupils``: the first row for 60 pupils or fewer (the table's
    smallest school), straight lines between rows, the last segment's slope beyond 1,400."""
    xs = [p for p, _ in MEXT_BANDWIDTH]
    if pupils <= xs[0]:
        return float(MEXT_BANDWIDTH[0][1])
    i = min(bisect_right(xs, pupils), len(xs) - 1)
    (x0, y0), (x1, y1) = MEXT_BANDWIDTH[i - 1], MEXT_BANDWIDTH[i]
    return round(y0 + (y1 - y0) * (pupils - x0) / (x1 - x0), 1)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _month(value: datetime) -> str:
    return _aware(value).astimezone(JST).strftime("%Y-%m")


_JST_OFFSET = timedelta(hours=9)  # Japan keeps no summer time


def _month_fast(value: datetime) -> str:
    """``_month`` for many rows: a fixed offset instead of a time-zone conversion per row."""
    local = (value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None))
    local += _JST_OFFSET
    return f"{local.year:04d}-{local.month:02d}"


def _months(first: str, last: str) -> list[str]:
    y, m = map(int, first.split("-"))
    out: list[str] = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def subscriptions(session: Session, now: datetime, target: int = FTTH_SUBSCRIBERS) -> dict[str, Any]:
    """Active households against the target, take-up per district, and the month-end series."""
    districts = list(session.execute(select(District.code, District.name, District.households).order_by(District.code)))
    active = dict(
        session.execute(
            select(District.code, func.count(Household.id)).join(Household, Household.district_id == District.id)
            .where(Household.status == HouseholdStatus.ACTIVE).group_by(District.code)
        ).all()
    )
    total = sum(active.values())
    by_district = [
        {"district": code, "name": name, "active": active.get(code, 0), "households": households,
         "take_up": round(active.get(code, 0) / households, 4) if households else None}
        for code, name, households in districts
    ]
    changes = session.execute(
        select(HouseholdStatusChange.household_id, HouseholdStatusChange.status, HouseholdStatusChange.at)
        .order_by(HouseholdStatusChange.at, HouseholdStatusChange.id)
    ).all()
    series: list[dict[str, Any]] = []
    if changes:  # one pass: the active count moves as each household's latest status changes
        months = _months(_month(changes[0][2]), _month(now))
        state: dict[int, str] = {}
        keys = [_month_fast(at) for _h, _s, at in changes]
        n = i = 0
        for month in months:
            while i < len(changes) and keys[i] <= month:
                household, status = changes[i][0], changes[i][1]
                n += (status == HouseholdStatus.ACTIVE) - (state.get(household) == HouseholdStatus.ACTIVE)
                state[household] = status
                i += 1
            series.append({"month": month, "active": n, "target": target, "progress": round(n / target, 4)})
    return {"active": total, "target": target, "progress": round(total / target, 4) if target else None,
            "households": sum(d[2] for d in districts), "by_district": by_district, "monthly": series}


def tablets_seen(session: Session, now: datetime, school: str | None = None) -> dict[str, Any]:
    """Share of each school's active tablets seen in the last 24 hours and 7 days, and town-wide."""
    day, week = now - timedelta(hours=24), now - timedelta(days=7)
    stmt = (select(School.code, School.name, Tablet.last_seen_at).join(Tablet, Tablet.school_id == School.id)
            .where(Tablet.status == "active"))
    if school is not None:
        stmt = stmt.where(School.code == school)
    per: dict[str, dict[str, Any]] = {}
    for code, name, seen in session.execute(stmt):
        row = per.setdefault(code, {"school": code, "name": name, "tablets": 0, "seen_24h": 0, "seen_7d": 0})
        row["tablets"] += 1
        if seen is not None:
            row["seen_24h"] += _aware(seen) >= day
            row["seen_7d"] += _aware(seen) >= week
    rows = sorted(per.values(), key=lambda r: r["school"])
    for r in rows:
        r["share_24h"] = round(r["seen_24h"] / r["tablets"], 4)
        r["share_7d"] = round(r["seen_7d"] / r["tablets"], 4)
    n = sum(r["tablets"] for r in rows)
    town = {"tablets": n, "seen_24h": sum(r["seen_24h"] for r in rows), "seen_7d": sum(r["seen_7d"] for r in rows)}
    town["share_24h"] = round(town["seen_24h"] / n, 4) if n else None
    town["share_7d"] = round(town["seen_7d"] / n, 4) if n else None
    return {"schools": rows, "town": town}


#: a count of tablets seen at home below this is shown only as "<3": a district's one or two homes with a
#: pupil learning online must not be identifiable
MIN_SHOWN_AT_HOME = 3
SMALL = f"<{MIN_SHOWN_AT_HOME}"


def _shown(n: int) -> int | str:
    return SMALL if 0 < n < MIN_SHOWN_AT_HOME else n


def at_home(session: Session, now: datetime, days: int = 7) -> tuple[dict[str, set[int]], set[int]]:
    """Which active tablets were seen at home in the last ``days``: by district code, and town-wide (tablet
    ids, for counting only). A tablet is at home when an MDM's sync (``TabletAddress``) came from an IPv4
    address a household line held at that time (``LineLease``: start <= sync < stop, or still held); the
    district is the household's. Only ids and district codes leave this function, never a household."""
    since = _aware(now) - timedelta(days=days)
    syncs: list[tuple[int, str, datetime]] = []
    stmt = (select(TabletAddress.tablet_id, TabletAddress.ip, TabletAddress.seen_at)
            .join(Tablet, Tablet.id == TabletAddress.tablet_id).where(Tablet.status == "active"))
    for tablet_id, ip, at in session.execute(stmt):
        at = _aware(at)
        if since <= at <= _aware(now):
            syncs.append((tablet_id, ip, at))
    ips = sorted({ip for _t, ip, _at in syncs})
    leases: dict[str, list[tuple[datetime, datetime | None, str]]] = {}
    for i in range(0, len(ips), 500):
        rows = session.execute(
            select(LineLease.ip, LineLease.start_at, LineLease.stop_at, District.code)
            .join(Household, Household.id == LineLease.household_id)
            .join(District, District.id == Household.district_id)
            .where(LineLease.ip.in_(ips[i : i + 500]))
        )
        for ip, start, stop, district in rows:
            leases.setdefault(ip, []).append((_aware(start), None if stop is None else _aware(stop), district))
    by_district: dict[str, set[int]] = {}
    town: set[int] = set()
    for tablet_id, ip, at in syncs:
        for start, stop, district in leases.get(ip, ()):
            if start <= at and (stop is None or at < stop):
                by_district.setdefault(district, set()).add(tablet_id)
                town.add(tablet_id)
    return by_district, town


def tablets_at_home(session: Session, now: datetime, days: int = 7) -> dict[str, Any]:
    """The home-learning KPI: per district and town-wide, how many active tablets were seen at home
    (``at_home``) in the last ``days`` and their share of the active tablets (of the district's schools;
    town-wide, of all). Counts only: 1 or 2 are shown as ``"<3"`` with no share (0 names no home and is
    shown). A tablet seen at home in two districts counts in both, once town-wide. Not done: complementary
    suppression (the town's figure minus the shown districts can bound a hidden one)."""
    seen, town = at_home(session, now, days)
    tablets = dict(session.execute(
        select(District.code, func.count(Tablet.id)).join(School, School.district_id == District.id)
        .join(Tablet, Tablet.school_id == School.id).where(Tablet.status == "active").group_by(District.code)
    ).all())  # fmt: skip
    rows: list[dict[str, Any]] = []
    for code, name in session.execute(select(District.code, District.name).order_by(District.code)):
        n, active = len(seen.get(code, ())), int(tablets.get(code, 0))
        rows.append({"district": code, "name": name, "tablets": active, "seen_7d": _shown(n),
                     "share_7d": round(n / active, 4) if active and n >= MIN_SHOWN_AT_HOME else None})
    total = sum(int(v) for v in tablets.values())
    n = len(town)
    return {"days": days, "min_shown": MIN_SHOWN_AT_HOME, "districts": rows,
            "town": {"tablets": total, "seen_7d": _shown(n),
                     "share_7d": round(n / total, 4) if total and n >= MIN_SHOWN_AT_HOME else None}}


def school_bandwidth(session: Session, peaks_mbps: dict[str, float] | None = None,
                     school: str | None = None) -> list[dict[str, Any]]:
    """Each school's MEXT target for its pupils against its latest measured throughput (an active iperf3
    test, ``ftthnoc.kpi.throughput``: the download figure decides), and, apart, the uplink's utilisation peak.

    ``meets`` is None until a test has worked; ``gap_mbps`` is how far below the target the measurement is
    (0 when it meets it). ``peak_mbps`` (utilisation, the busiest interval between two polls) never decides.
    """
    stmt = select(School.code, School.name, School.pupils).order_by(School.code)
    if school is not None:
        stmt = stmt.where(School.code == school)
    tests = throughput.measured(session, school)
    out = []
    for code, name, pupils in session.execute(stmt):
        target = mext_mbps(pupils)
        test = tests.get(code) or {}
        mbps = test.get("mbps")
        meets = None if mbps is None else mbps >= target
        out.append({"school": code, "name": name, "pupils": pupils, "target_mbps": target,
                    "measured_mbps": mbps, "measured_at": test.get("at"), "upload_mbps": test.get("upload_mbps"),
                    "upload_at": test.get("upload_at"), "streams": test.get("streams"),
                    "test_seconds": test.get("seconds"), "server": test.get("server"),
                    "last_failure": test.get("failed"), "meets": meets,
                    "gap_mbps": None if mbps is None else round(max(0.0, target - mbps), 1),
                    "peak_mbps": (peaks_mbps or {}).get(code)})  # fmt: skip
    return out


def recent_peaks(session: Session, now: datetime, days: int = 7) -> dict[str, float]:
    """Each school's highest measured uplink rate (Mbps, 0.1 Mbps) over the last ``days`` JST days, today
    included; schools without a measurement in that window are absent (``school_bandwidth``: unknown)."""
    today = _aware(now).astimezone(JST).date()
    first = today - timedelta(days=max(days, 1) - 1)
    rows = session.execute(
        select(SchoolUplinkPeak.school, func.max(SchoolUplinkPeak.peak_mbps))
        .where(SchoolUplinkPeak.day >= first, SchoolUplinkPeak.day <= today)
        .group_by(SchoolUplinkPeak.school)
    )
    return {school: round(float(peak), 1) for school, peak in rows if peak is not None}


def availability(session: Session) -> list[dict[str, Any]]:
    """ONU-minutes up over ONU-minutes expected, per month (town-wide and by district). The recorder
    books an unreachable OLT's homes as expected and not up (``ftthnoc.kpi.recorder``): dark time counts."""
    rows = session.execute(select(AvailabilityMonth).order_by(AvailabilityMonth.month, AvailabilityMonth.district))
    months: dict[str, dict[str, Any]] = {}
    for (r,) in rows:
        m = months.setdefault(r.month, {"month": r.month, "up_seconds": 0.0, "expected_seconds": 0.0,
                                        "by_district": []})
        m["up_seconds"] += r.up_seconds
        m["expected_seconds"] += r.expected_seconds
        m["by_district"].append({"district": r.district, "ratio": _ratio(r.up_seconds, r.expected_seconds)})
    for m in months.values():
        m["ratio"] = _ratio(m["up_seconds"], m["expected_seconds"])
    return list(months.values())


def _ratio(up: float, expected: float) -> float | None:
    return round(up / expected, 6) if expected else None


def incidents(session: Session, now: datetime) -> dict[str, Any]:
    quarter_start = _quarter_start(now)
    open_ = session.scalar(select(func.count(Incident.id)).where(Incident.status == "open")) or 0
    reportable = session.scalar(
        select(func.count(Incident.id)).where(Incident.reportable.is_(True), Incident.started_at >= quarter_start)
    ) or 0
    return {"open": open_, "reportable_this_quarter": reportable, "quarter_start": quarter_start.isoformat()}


def _quarter_start(now: datetime) -> datetime:
    local = _aware(now).astimezone(JST)
    month = 3 * ((local.month - 1) // 3) + 1
    return datetime(local.year, month, 1, tzinfo=JST)


def telework(session: Session, now: datetime, target: float = TELEWORK_OFFICE_REDUCTION) -> dict[str, Any]:
    """This month's office-attendance reduction against the target (finished working days), from the source
    ``ftthnoc.telework.sources.month_figure`` chooses (attendance, LGWAN log, VPN users, VPN sessions), named."""
    local = _aware(now).astimezone(JST)
    fig = month_figure(session, local.year, local.month, target)
    reduction = fig.office_reduction
    share = fig.remote_share
    return {"month": f"{local.year:04d}-{local.month:02d}",
            "reduction": None if reduction is None else round(reduction, 4), "target": fig.target_reduction,
            "attainment": None if fig.target_attainment is None else round(fig.target_attainment, 4),
            "days": fig.days_with_figure, "source": fig.source, "source_title": TITLES[fig.source],
            "remote_share": None if share is None else round(share, 4),
            "teleworkers": fig.teleworkers, "staff_days": None if fig.source == "vpn_sessions" else fig.staff_days}


def tablets_daily(session: Session, now: datetime, days: int = 28) -> list[dict[str, Any]]:
    """The GIGA-school trend: per JST day of the last ``days`` (today included, so far), the share of the
    active tablets with an MDM sync that day (``TabletAddress``). Days before the first sync are left out."""
    today = _aware(now).astimezone(JST).date()
    first = today - timedelta(days=max(days, 1) - 1)
    since = datetime.combine(first, datetime.min.time(), JST).astimezone(UTC)
    total = session.scalar(select(func.count(Tablet.id)).where(Tablet.status == "active")) or 0
    seen: dict[str, set[int]] = {}
    rows = session.execute(select(TabletAddress.tablet_id, TabletAddress.seen_at)
                           .join(Tablet, Tablet.id == TabletAddress.tablet_id)
                           .where(Tablet.status == "active", TabletAddress.seen_at >= since))  # fmt: skip
    end = _aware(now).astimezone(UTC).replace(tzinfo=None)
    for tablet_id, at in rows:  # a fixed offset, not a time-zone conversion per sync (tens of thousands)
        utc = at.replace(tzinfo=None) if at.tzinfo is None else at.astimezone(UTC).replace(tzinfo=None)
        if utc <= end:
            seen.setdefault((utc + _JST_OFFSET).date().isoformat(), set()).add(tablet_id)
    if not seen or not total:
        return []
    out = []
    day = date.fromisoformat(min(seen))
    while day <= today:
        n = len(seen.get(day.isoformat(), ()))
        out.append({"day": day.isoformat(), "seen": n, "tablets": total, "share": round(n / total, 4)})
        day += timedelta(days=1)
    return out


def telework_monthly(session: Session, now: datetime, target: float = TELEWORK_OFFICE_REDUCTION,
                     months: int = 36) -> list[dict[str, Any]]:  # fmt: skip
    """The telework trend: each month's office-attendance reduction (``telework``'s figure, its source
    named), from the first month with a stored day (at most ``months`` back) to this one; months without a
    figure have ``reduction`` None."""
    firsts = [session.scalar(select(func.min(TeleworkSourceDay.day))),
              session.scalar(select(func.min(TeleworkDay.day)))]
    known = [d for d in firsts if d is not None]
    local = _aware(now).astimezone(JST)
    last = f"{local.year:04d}-{local.month:02d}"
    if not known:
        return []
    out = []
    for month in _months(min(known).strftime("%Y-%m"), last)[-months:]:
        y, m = map(int, month.split("-"))
        fig = month_figure(session, y, m, target)
        reduction = fig.office_reduction
        out.append({"month": month, "reduction": None if reduction is None else round(reduction, 4),
                    "target": fig.target_reduction, "days": fig.days_with_figure, "source": fig.source})
    return out


def all_kpis(session: Session, now: datetime, *, target: int = FTTH_SUBSCRIBERS,
             peaks_mbps: dict[str, float] | None = None) -> dict[str, Any]:
    return {
        "generated_at": now.isoformat(),
        "subscriptions": subscriptions(session, now, target),
        "tablets": tablets_seen(session, now),
        "tablets_at_home": tablets_at_home(session, now),
        "school_bandwidth": school_bandwidth(session, peaks_mbps),
        "telework": telework(session, now),
        "telework_monthly": telework_monthly(session, now),
        "tablets_daily": tablets_daily(session, now),
        "availability": availability(session),
        "incidents": incidents(session, now),
    }


__all__: Sequence[str] = ("all_kpis", "availability", "incidents", "mext_mbps", "recent_peaks", "school_bandwidth",
                          "subscriptions", "tablets_at_home", "tablets_daily", "tablets_seen", "telework",
                          "telework_monthly")
