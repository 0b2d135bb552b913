"""``/support``: the help desk's household search (admin and support with personal fields, operators
without), through ``api.services.households``, which applies the personal-field policy and audits: by
code, district and status for all three, and for admin and support by name (or its kana), phone, address
or ONU serial in one box (``q``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.deps import Auth, DbSession
from api.services import districts, households
from api.services.common import Window
from api.web.common import render
from ftthnoc.inventory.models import HouseholdStatus

#: Rows a household search shows at most (each shown row with personal fields is audited).
SEARCH_LIMIT = 100

router = APIRouter(include_in_schema=False)


@router.get("/support")
def support_search(
    request: Request,
    session: DbSession,
    auth: Auth,
    code: Annotated[str, Query(max_length=32)] = "",
    district: Annotated[str, Query(max_length=32)] = "",
    status_: Annotated[str, Query(alias="status", max_length=16)] = "",
    q: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    searched = bool(code or district or status_ or q.strip())
    found = None
    if searched:
        wanted = HouseholdStatus(status_) if status_ in set(HouseholdStatus) else None
        found = households.search(session, auth.principal, Window(SEARCH_LIMIT), via="web",
                                  code_contains=code.strip() or None, district=district or None,
                                  status=wanted, text=q.strip() or None)  # fmt: skip
    return render(request, "support.html", auth, rows=found.items if found else [], searched=searched,
                  more=found is not None and found.total > SEARCH_LIMIT, limit=SEARCH_LIMIT,
                  personal=households.sees_personal_data(auth.principal),
                  personal_fields=households.personal_fields(), districts=districts.choices(session),
                  statuses=[str(s) for s in HouseholdStatus],
                  q={"code": code, "district": district, "status": status_, "q": q})  # fmt: skip
