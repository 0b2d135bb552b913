"""``/schools`` (every school's tablets seen and uplink against the MEXT target) and ``/schools/{code}``
(a school's tablets by grade and class, filtered by state, grade and class with a plain GET form, and its
uplink; printable), through ``api.services.schools``:
a school user is sent on to its own school, and another school's page answers as a missing one would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from api.deps import Auth, DbSession, Peaks
from api.services import schools
from api.services.scope import own_school
from api.web import charts
from api.web.common import render
from api.web.i18n import lang_of, translator

router = APIRouter(include_in_schema=False)


@router.get("/schools")
def schools_page(request: Request, session: DbSession, auth: Auth, peaks: Peaks) -> Response:
    mine = own_school(auth.principal)
    if mine is not None:
        return RedirectResponse(f"/schools/{mine}", status.HTTP_303_SEE_OTHER)
    rows = schools.overview(session, auth.principal, datetime.now(UTC), peaks)
    return render(request, "schools.html", auth, rows=rows)


#: The school page's state filter: a tablet's state, or not seen for a week (never seen included).
STATES: tuple[str, ...] = ("online", "offline", "never_seen", "not_seen_week")
WEEK = timedelta(days=7)
#: Classes are shown folded when the school page lists more tablets than this without a filter.
OPEN_UP_TO = 40


@dataclass(frozen=True)
class TabletFilter:
    """The school page's filters (``?state=&grade=&class=``; empty: any), as a form without script sends them."""

    state: str = ""
    grade: str = ""
    class_name: str = ""

    @property
    def active(self) -> bool:
        return bool(self.state or self.grade or self.class_name)

    def keeps(self, grade: int | None, class_name: str, tablet: dict[str, Any], now: datetime) -> bool:
        if self.grade and self.grade != ("none" if grade is None else str(grade)):
            return False
        if self.class_name and self.class_name != class_name:
            return False
        if self.state == "not_seen_week":
            seen = tablet["seen"]
            return seen is None or (seen if seen.tzinfo else seen.replace(tzinfo=UTC)) < now - WEEK
        return not self.state or tablet["state"] == self.state


def filtered(groups: list[dict[str, Any]], wanted: TabletFilter, now: datetime) -> list[dict[str, Any]]:
    """The groups (grade → classes → tablets) with only the tablets the filter keeps; empty groups dropped."""
    out: list[dict[str, Any]] = []
    for group in groups:
        classes = []
        for cls in group["classes"]:
            kept = [tb for tb in cls["tablets"] if wanted.keeps(group["grade"], cls["name"], tb, now)]
            if kept:
                classes.append({**cls, "tablets": kept, "online": sum(1 for tb in kept if tb["state"] == "online")})
        if classes:
            out.append({**group, "classes": classes})
    return out


@router.get("/schools/{code}")
def school_page(request: Request, session: DbSession, auth: Auth, peaks: Peaks,
                code: Annotated[str, Path(max_length=32)],
                state: Annotated[str, Query(max_length=16)] = "",
                grade: Annotated[str, Query(max_length=8)] = "",
                class_: Annotated[str, Query(alias="class", max_length=32)] = "") -> Response:  # fmt: skip
    now = datetime.now(UTC)
    found = schools.school_tablets(session, auth.principal, code, now, peaks)
    grades = [("none" if g["grade"] is None else str(g["grade"]), g["grade"]) for g in found.groups]
    classes = sorted({c["name"] for g in found.groups for c in g["classes"]})
    wanted = TabletFilter(state if state in STATES else "", grade if grade in {k for k, _ in grades} else "",
                          class_ if class_ in classes else "")  # fmt: skip
    groups = filtered(found.groups, wanted, now) if wanted.active else found.groups
    shown = sum(len(c["tablets"]) for g in groups for c in g["classes"])
    t = translator(lang_of(request))
    chart = None
    if found.bandwidth is not None:
        chart = charts.versus(found.bandwidth["measured_mbps"], found.bandwidth["target_mbps"], t("bandwidth"),
                              value_label=t("measured"), target_label=t("mext_target"))  # fmt: skip
    return render(request, "school.html", auth, school=found.school, groups=groups, totals=found.totals,
                  total=sum(found.totals.values()), bandwidth=found.bandwidth, chart=chart, now=now,
                  unidentified=found.unidentified, wanted=wanted, states=STATES, grades=grades, classes=classes,
                  shown=shown, unfold=wanted.active or shown <= OPEN_UP_TO)  # fmt: skip
