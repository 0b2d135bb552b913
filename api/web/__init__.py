"""Server-rendered web pages, one module per page: ``login`` (landing, login, logout), ``support`` (the
household search), ``household`` (one household, enrolment and line changes), ``schools`` (schools and one
school's tablets), ``kpis`` (the town's figures, the way to Grafana), ``outages`` (the residents' public
outage page and its Atom feed); ``common`` renders and ``assets`` serves the stylesheet and script.

``create_app`` mounts ``routers`` at the root (not under ``/api``) behind the same ``authorize`` dependency
and access table as the API's routes, and ``public_routers`` (``api.routes_access.PUBLIC``) without it;
``page_error`` turns a refusal into the login redirect or an error page. The routers are listed, not
nested in one: ``create_app`` checks each route of each against the table, and refuses nested routers.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.web import assets, household, kpis, login, outages, schools, support
from api.web.common import page_error

#: The pages behind the access table, one router per page module.
routers: tuple[APIRouter, ...] = (login.router, support.router, household.router, schools.router, kpis.router)
#: The pages anyone may open.
public_routers: tuple[APIRouter, ...] = (login.public_router, assets.public_router, outages.public_router)

__all__ = ["page_error", "public_routers", "routers"]
