"""``/schools`` (every school's tablets seen and uplink against the MEXT target) and ``/schools/{code}``
(a school's tablets by grade and class, and its uplink; printable), through ``api.services.schools``:
a school user is sent on to its own school, and another school's page answers as a missing one would."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
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


@router.get("/schools/{code}")
def school_page(request: Request, session: DbSession, auth: Auth, peaks: Peaks,
                code: Annotated[str, Path(max_length=32)]) -> Response:  # fmt: skip
    now = datetime.now(UTC)
    found = schools.school_tablets(session, auth.principal, code, now, peaks)
    t = translator(lang_of(request))
    chart = None
    if found.bandwidth is not None:
        chart = charts.versus(found.bandwidth["measured_mbps"], found.bandwidth["target_mbps"], t("bandwidth"),
                              value_label=t("measured"), target_label=t("mext_target"))  # fmt: skip
    return render(request, "school.html", auth, school=found.school, groups=found.groups, totals=found.totals,
                  total=sum(found.totals.values()), bandwidth=found.bandwidth, chart=chart, now=now)  # fmt: skip
