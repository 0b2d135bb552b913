"""``/api/kpis``: the town's KPIs (``ftthnoc.kpi.figures``), whole and as flat rows for Grafana's Infinity
data source (one array of flat objects per endpoint, no transformation needed).

Every role may read them: they are aggregates, never personal. A ``school`` user gets the town-wide
figures but, in the per-school sections (tablets, bandwidth), only its own school's rows.

The figures, their cache and the school scoping are ``api.services.kpis`` (the KPI page uses the same);
the MEXT verdict (``meets``, ``gap_mbps``) reads the schools' latest active throughput tests in the database
(``school_throughput_tests``); the uplinks' utilisation peaks, a separate figure, come from
``app.state.school_peaks_mbps`` when the application sets it (a mapping school code -> Mbps, or a callable
returning one); without it ``peak_mbps`` is null.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.deps import CurrentPrincipal, DbSession, Peaks, kpi_cache
from api.services import kpis
from api.services.kpis import KpiCache
from ftthnoc.targets import PUPILS_ONLINE_SHARE, SERVICE_AVAILABILITY

router = APIRouter(prefix="/kpis", tags=["kpis"])



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


Shown = int | Literal["<3"]


class TabletsAtHomeDistrict(BaseModel):
    district: str
    name: str
    tablets: int = Field(description="Active tablets of the district's schools.")
    seen_7d: Shown = Field(description='Tablets seen at home on a household line of the district in the last '
                                       '7 days; 1 or 2 as "<3" so that no home can be identified.')
    share_7d: float | None = Field(description="seen_7d / tablets; null when the count is suppressed.")


class TabletsAtHomeTown(BaseModel):
    tablets: int
    seen_7d: Shown
    share_7d: float | None


class TabletsAtHome(BaseModel):
    days: int
    min_shown: int = Field(description="Counts below this are shown only as \"<N\".")
    districts: list[TabletsAtHomeDistrict]
    town: TabletsAtHomeTown


class ThroughputFailure(BaseModel):
    at: datetime
    direction: str = Field(description="download or upload.")
    error: str | None = Field(description="Why the test failed, in iperf3's (or ftthnoc's) words.")


class SchoolBandwidth(BaseModel):
    school: str
    name: str
    pupils: int
    target_mbps: float = Field(description="MEXT's recommended bandwidth for the pupils (2024 table).")
    measured_mbps: float | None = Field(description="Download throughput of the latest successful active test "
                                                    "(iperf3 to the town's measurement server); null: none yet.")
    measured_at: datetime | None = Field(description="When that test started.")
    upload_mbps: float | None = Field(description="Upload throughput of the latest successful test.")
    upload_at: datetime | None
    streams: int | None = Field(description="Parallel TCP streams of the measured test.")
    test_seconds: float | None = Field(description="Seconds the measured test ran (per direction).")
    server: str | None = Field(description="The measurement server, HOST:PORT.")
    last_failure: ThroughputFailure | None = Field(
        description="The latest test when it failed after the measured one (null otherwise).")
    meets: bool | None = Field(description="measured_mbps >= target_mbps; null when no test has worked yet.")
    gap_mbps: float | None = Field(description="target - measured when below it, else 0; null without a test.")
    peak_mbps: float | None = Field(description="Uplink utilisation peak (busiest interval between two polls, last "
                                                "7 days): a separate figure that never decides meets.")


class Telework(BaseModel):
    month: str
    reduction: float | None = Field(description="Reduction of office attendance this month so far.")
    target: float
    attainment: float | None
    days: int = Field(description="Finished working days with a figure.")
    source: Literal["attendance", "lgwan_csv", "vpn_users", "vpn_sessions"] = Field(
        description="Where the figure comes from: attendance records, the LGWAN telework system's logins, distinct "
                    "VPN users, or (no source with people) the mean of VPN sessions.")
    source_title: str = Field(description="What the source counts, in one line.")
    remote_share: float | None = Field(description="Share of staff-days teleworking (vpn_sessions: mean sessions / "
                                                   "staff).")
    teleworkers: int | None = Field(description="Telework staff-days counted this month; null for vpn_sessions.")
    staff_days: int | None = Field(description="Staff-days the share is of; null for vpn_sessions.")


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


class TeleworkMonth(BaseModel):
    month: str
    reduction: float | None = Field(description="Reduction of office attendance that month; null: no figure.")
    target: float
    days: int = Field(description="Finished working days with a figure.")
    source: Literal["attendance", "lgwan_csv", "vpn_users", "vpn_sessions"]


class TabletsDay(BaseModel):
    day: date = Field(description="JST day (today: so far).")
    seen: int = Field(description="Active tablets with an MDM sync that day.")
    tablets: int = Field(description="Active tablets.")
    share: float


class TabletsDayRow(TabletsDay):
    target: float = Field(description="The share the town aims for (every pupil online: 1.0).")


class AvailabilityTownMonth(BaseModel):
    month: str = Field(description="JST month, YYYY-MM.")
    ratio: float | None = Field(description="Town-wide ONU-seconds up / expected; null: nothing expected.")
    target: float = Field(description="The town's target (24 hours, 365 days: 1.0).")


class KpiOverview(BaseModel):
    generated_at: datetime
    subscriptions: Subscriptions
    tablets: Tablets
    tablets_at_home: TabletsAtHome = Field(description="Home learning: tablets seen on a household line, by "
                                                       "district, counts only (never a household).")
    school_bandwidth: list[SchoolBandwidth]
    telework: Telework
    telework_monthly: list[TeleworkMonth] = Field(description="The telework trend: each month's reduction.")
    tablets_daily: list[TabletsDay] = Field(description="The GIGA-school trend: share of active tablets synced "
                                                        "per day (MDM), last 28 days.")
    availability: list[AvailabilityMonth]
    incidents: Incidents


# -------------------------------------------------------------------------------------------- helpers
def now_utc() -> datetime:
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(now_utc)]
Cache = Annotated[KpiCache, Depends(kpi_cache)]


# --------------------------------------------------------------------------------------------- routes
@router.get("", summary="All KPIs of the town")
def get_kpis(session: DbSession, principal: CurrentPrincipal, now: Now, peaks: Peaks, cache: Cache) -> KpiOverview:
    return KpiOverview.model_validate(kpis.overview(session, principal, now, peaks, cache))


@router.get("/subscriptions/monthly", summary="Active households at each month's end (rows)")
def subscriptions_monthly(session: DbSession, now: Now) -> list[SubscriptionMonth]:
    data = kpis.subscriptions(session, now)
    return [SubscriptionMonth.model_validate(r) for r in data["monthly"]]


@router.get("/subscriptions/districts", summary="Take-up by district (rows)")
def subscriptions_districts(session: DbSession, now: Now) -> list[DistrictTakeUp]:
    data = kpis.subscriptions(session, now)
    return [DistrictTakeUp.model_validate(r) for r in data["by_district"]]


@router.get("/tablets", summary="Tablets seen in the last 24 h and 7 days, by school (rows)")
def tablets(session: DbSession, principal: CurrentPrincipal, now: Now) -> list[TabletsSchool]:
    data = kpis.tablets_seen(session, principal, now)
    return [TabletsSchool.model_validate(r) for r in data["schools"]]


@router.get("/tablets/home", summary="Tablets seen at home in the last 7 days, by district (rows)")
def tablets_home(session: DbSession, now: Now) -> list[TabletsAtHomeDistrict]:
    data = kpis.tablets_at_home(session, now)
    return [TabletsAtHomeDistrict.model_validate(r) for r in data["districts"]]


@router.get("/schools/bandwidth", summary="Each school's measured throughput against its MEXT target (rows)")
def schools_bandwidth(session: DbSession, principal: CurrentPrincipal, peaks: Peaks) -> list[SchoolBandwidth]:
    rows = kpis.school_bandwidth(session, principal, peaks)
    return [SchoolBandwidth.model_validate(r) for r in rows]


@router.get("/availability", summary="ONU availability per month, town-wide and by district (rows)")
def availability(session: DbSession) -> list[AvailabilityRow]:
    out: list[AvailabilityRow] = []
    for month in kpis.availability(session):
        out.append(AvailabilityRow(month=month["month"], district=None, ratio=month["ratio"]))
        out.extend(AvailabilityRow(month=month["month"], district=d["district"], ratio=d["ratio"])
                   for d in month["by_district"])  # fmt: skip
    return out


# The long-term trends as flat rows for Grafana's Infinity data source: the database is their source of record
# (Prometheus keeps 15 days), so the dashboards' trend panels read these, each row with its target.
@router.get("/tablets/daily", summary="Share of active tablets synced each day, last 28 days (rows)")
def tablets_daily(session: DbSession, now: Now) -> list[TabletsDayRow]:
    return [TabletsDayRow.model_validate({**r, "target": PUPILS_ONLINE_SHARE})
            for r in kpis.tablets_daily(session, now)]


@router.get("/telework/monthly", summary="Office attendance reduction per month against the target (rows)")
def telework_monthly(session: DbSession, now: Now) -> list[TeleworkMonth]:
    return [TeleworkMonth.model_validate(r) for r in kpis.telework_monthly(session, now)]


@router.get("/availability/monthly", summary="Town-wide ONU availability per month against the target (rows)")
def availability_monthly(session: DbSession) -> list[AvailabilityTownMonth]:
    return [AvailabilityTownMonth(month=m["month"], ratio=m["ratio"], target=SERVICE_AVAILABILITY)
            for m in kpis.availability(session)]
