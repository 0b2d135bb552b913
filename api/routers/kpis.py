"""``/api/kpis``: the town's KPIs (``ftthnoc.kpi.figures``), whole and as flat rows for Grafana's Infinity
data source (one array of flat objects per endpoint, no transformation needed).

Every role may read them: they are aggregates, never personal. A ``school`` user gets the town-wide
figures but, in the per-school sections (tablets, bandwidth), only its own school's rows.

The schools' measured uplink peaks come from ``app.state.school_peaks_mbps`` when the application sets
it (a mapping school code -> Mbps, or a callable returning one, e.g. from the poller's snapshot); without
it ``peak_mbps`` is null and ``meets`` unknown.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from api.deps import CurrentPrincipal, DbSession
from api.security import Principal, Role
from ftthnoc.kpi import figures

log = logging.getLogger(__name__)

router = APIRouter(prefix="/kpis", tags=["kpis"])

#: The lines of ``api.routes_access.ACCESS`` for these routes: every role (aggregates only; a school user's
#: per-school rows are limited to its school by the routes themselves).
ROUTE_ACCESS: dict[str, frozenset[Role]] = {
    f"GET /api/kpis{path}": frozenset(Role)
    for path in ("", "/subscriptions/monthly", "/subscriptions/districts", "/tablets", "/schools/bandwidth",
                 "/availability")
}  # fmt: skip


# ------------------------------------------------------------------------------------------ schemas
class SubscriptionMonth(BaseModel):
    month: str = Field(description="JST month, YYYY-MM.")
    active: int = Field(description="Households active at the month's end (so far, for this month).")
    target: int
    progress: float = Field(description="active / target.")


class DistrictTakeUp(BaseModel):
    district: str
    name: str
    active: int
    households: int = Field(description="Households in the district (the census figure).")
    take_up: float | None = Field(description="active / households; null for a district without households.")


class Subscriptions(BaseModel):
    active: int
    target: int = Field(description="The DX strategy's target of subscribing households.")
    progress: float | None
    households: int
    by_district: list[DistrictTakeUp]
    monthly: list[SubscriptionMonth]


class TabletsSchool(BaseModel):
    school: str
    name: str
    tablets: int = Field(description="Active tablets of the school.")
    seen_24h: int
    seen_7d: int
    share_24h: float
    share_7d: float


class TabletsTown(BaseModel):
    tablets: int
    seen_24h: int
    seen_7d: int
    share_24h: float | None
    share_7d: float | None


class Tablets(BaseModel):
    schools: list[TabletsSchool]
    town: TabletsTown = Field(description="The whole town (also for a school user).")


class SchoolBandwidth(BaseModel):
    school: str
    name: str
    pupils: int
    target_mbps: float = Field(description="MEXT's recommended bandwidth for the pupils (2024 table).")
    peak_mbps: float | None = Field(description="Measured uplink peak; null when not known.")
    meets: bool | None = Field(description="peak >= target; null when the peak is not known.")


class Telework(BaseModel):
    month: str
    reduction: float | None = Field(description="Reduction of office attendance this month so far.")
    target: float
    attainment: float | None
    days: int = Field(description="Finished working days with a figure.")


class AvailabilityDistrict(BaseModel):
    district: str
    ratio: float | None


class AvailabilityMonth(BaseModel):
    month: str
    up_seconds: float = Field(description="ONU-seconds polled up.")
    expected_seconds: float = Field(description="ONU-seconds expected up.")
    ratio: float | None
    by_district: list[AvailabilityDistrict]


class AvailabilityRow(BaseModel):
    month: str
    district: str | None = Field(description="District code; null: the whole town.")
    ratio: float | None


class Incidents(BaseModel):
    open: int
    reportable_this_quarter: int = Field(description="Incidents reportable to the MIC started this quarter.")
    quarter_start: datetime


class KpiOverview(BaseModel):
    generated_at: datetime
    subscriptions: Subscriptions
    tablets: Tablets
    school_bandwidth: list[SchoolBandwidth]
    telework: Telework
    availability: list[AvailabilityMonth]
    incidents: Incidents


# -------------------------------------------------------------------------------------------- helpers
PeaksProvider = Mapping[str, float] | Callable[[], Mapping[str, float]]


def now_utc() -> datetime:
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(now_utc)]


def school_peaks(request: Request) -> dict[str, float] | None:
    """The schools' measured uplink peaks (Mbps) from ``app.state.school_peaks_mbps``, or None."""
    source: PeaksProvider | None = getattr(request.app.state, "school_peaks_mbps", None)
    if source is None:
        return None
    try:
        peaks = source() if callable(source) else source
        return {str(k): float(v) for k, v in peaks.items()}
    except Exception:  # a broken snapshot must not break the KPIs
        log.exception("school peaks provider failed")
        return None


Peaks = Annotated[dict[str, float] | None, Depends(school_peaks)]


def own_school(principal: Principal) -> str | None:
    """The school a caller is limited to (a school user's own), None for every other role.

    A school user without a school sees no school's rows: an impossible code keeps the filter closed.
    """
    if principal.role is Role.SCHOOL:
        return principal.school or "\x00none"
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


def kpi_cache(request: Request) -> KpiCache:
    cache: KpiCache | None = getattr(request.app.state, "kpi_cache", None)
    if cache is None:
        settings = getattr(request.app.state, "api_settings", None)
        cache = KpiCache(getattr(settings, "kpi_cache_seconds", 30.0))
        request.app.state.kpi_cache = cache
    return cache


def overview(session: DbSession, now: datetime, peaks: dict[str, float] | None, principal: Principal,
             cache: KpiCache | None = None) -> dict[str, Any]:
    """``all_kpis`` with the per-school sections limited to the caller's school (shared with the web page).

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


# --------------------------------------------------------------------------------------------- routes
@router.get("", summary="All KPIs of the town")
def get_kpis(request: Request, session: DbSession, principal: CurrentPrincipal, now: Now, peaks: Peaks) -> KpiOverview:
    return KpiOverview.model_validate(overview(session, now, peaks, principal, kpi_cache(request)))


@router.get("/subscriptions/monthly", summary="Active households at each month's end (rows)")
def subscriptions_monthly(session: DbSession, now: Now) -> list[SubscriptionMonth]:
    data = figures.subscriptions(session, now)
    return [SubscriptionMonth.model_validate(r) for r in data["monthly"]]


@router.get("/subscriptions/districts", summary="Take-up by district (rows)")
def subscriptions_districts(session: DbSession, now: Now) -> list[DistrictTakeUp]:
    data = figures.subscriptions(session, now)
    return [DistrictTakeUp.model_validate(r) for r in data["by_district"]]


@router.get("/tablets", summary="Tablets seen in the last 24 h and 7 days, by school (rows)")
def tablets(session: DbSession, principal: CurrentPrincipal, now: Now) -> list[TabletsSchool]:
    data = figures.tablets_seen(session, now, school=own_school(principal))
    return [TabletsSchool.model_validate(r) for r in data["schools"]]


@router.get("/schools/bandwidth", summary="Each school's uplink peak against its MEXT target (rows)")
def schools_bandwidth(session: DbSession, principal: CurrentPrincipal, peaks: Peaks) -> list[SchoolBandwidth]:
    rows = figures.school_bandwidth(session, peaks, school=own_school(principal))
    return [SchoolBandwidth.model_validate(r) for r in rows]


@router.get("/availability", summary="ONU availability per month, town-wide and by district (rows)")
def availability(session: DbSession) -> list[AvailabilityRow]:
    out: list[AvailabilityRow] = []
    for month in figures.availability(session):
        out.append(AvailabilityRow(month=month["month"], district=None, ratio=month["ratio"]))
        out.extend(AvailabilityRow(month=month["month"], district=d["district"], ratio=d["ratio"])
                   for d in month["by_district"])  # fmt: skip
    return out
