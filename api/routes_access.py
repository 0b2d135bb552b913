"""Which roles may call which route: the one table the API and the web pages enforce, the docs print and
the tests check.

Keys are ``"METHOD /path"`` exactly as FastAPI spells the route (path parameters in braces): the API's
routes under ``/api``, the web pages' at the root. The ``authorize`` dependency
(``api.deps.authorize_under``) looks the matched route up on every request to either; a route missing
from the table is refused to everyone, and ``create_app`` refuses to start with such a route, so adding
a router or a page means adding its lines here, and nowhere else. The pages also ask the table what
to offer (``api.deps.may``): a link or a form appears only for the roles its route lets in.

What each role is for (see ``docs``: ``python -m api.routes_access`` prints the matrix):

* **admin**: everything, including households' personal fields (name, address, phone).
* **operator**: all monitoring data (inventory, ONU state, incidents) and the audit log; households
  without personal fields; no tablets' pupils data beyond the inventory.
* **support** (the subscriber help desk): districts, OLTs, ONUs, BWA cells, incidents and households
  *with* personal fields (every read audited); the audit log restricted to household entries (personal
  data reads and changes, provisioning runs on a household's line) so that it can answer "what happened
  to my line"; no schools, tablets or VPN gateways.
* **school**: its own school and its own tablets only; another school's objects answer 404, not 403,
  so that ids do not leak.
* **viewer**: aggregate, non-personal data: districts, OLTs and their PON ports, incidents (and the KPIs
  once their router is mounted).

Filtering inside a route (school scoping, personal fields, support's audit subset) is done once, by the
service layer (``api.services``) that routers and pages share; this table only says who gets in.
"""

from __future__ import annotations

from collections.abc import Mapping

from api.security import Role

ADMIN, OPERATOR, SUPPORT, SCHOOL, VIEWER = Role.ADMIN, Role.OPERATOR, Role.SUPPORT, Role.SCHOOL, Role.VIEWER

EVERYONE: frozenset[Role] = frozenset(Role)
#: Inventory that is neither personal nor school-bound.
INFRASTRUCTURE: frozenset[Role] = frozenset({ADMIN, OPERATOR, SUPPORT, VIEWER})

#: Routes that need no authentication at all: the health check, the logins, the landing redirect, assets.
PUBLIC: frozenset[str] = frozenset({"GET /api/health", "POST /api/login", "GET /", "GET /login", "POST /login",
                                    "GET /static/{name}"})  # fmt: skip
#: The residents' outage page and its feed (``api.web.outages``): districts and ranges only, for anyone.
PUBLIC |= frozenset({"GET /outages", "GET /outages/feed.atom"})

ACCESS: Mapping[str, frozenset[Role]] = {
    "POST /api/logout": EVERYONE,
    "GET /api/me": EVERYONE,
    "GET /api/districts": INFRASTRUCTURE,
    "GET /api/olts": INFRASTRUCTURE,
    "GET /api/olts/{name}": INFRASTRUCTURE,
    "GET /api/olts/{name}/pon_ports": INFRASTRUCTURE,
    "GET /api/onus": frozenset({ADMIN, OPERATOR, SUPPORT}),
    "GET /api/onus/{serial}": frozenset({ADMIN, OPERATOR, SUPPORT}),
    "GET /api/households": frozenset({ADMIN, OPERATOR, SUPPORT}),
    "GET /api/households/{code}": frozenset({ADMIN, OPERATOR, SUPPORT}),
    "GET /api/schools": frozenset({ADMIN, OPERATOR, SCHOOL}),
    "GET /api/schools/{code}": frozenset({ADMIN, OPERATOR, SCHOOL}),
    "GET /api/tablets": frozenset({ADMIN, OPERATOR, SCHOOL}),
    "GET /api/tablets/{tablet_id}": frozenset({ADMIN, OPERATOR, SCHOOL}),
    "POST /api/tablets/mdm-imports": frozenset({ADMIN, SCHOOL}),  # a school user: its own tablets only
    "GET /api/bwa_stations": frozenset({ADMIN, OPERATOR, SUPPORT}),
    "GET /api/vpn_gateways": frozenset({ADMIN, OPERATOR}),
    "GET /api/incidents": INFRASTRUCTURE,
    "GET /api/incidents/{incident_id}": INFRASTRUCTURE,
    "GET /api/audit": frozenset({ADMIN, OPERATOR, SUPPORT}),
    # ---- web pages (``api.web``): a stranger is sent to the login page, a refused role gets a 403 page
    "GET /logout": EVERYONE,
    "POST /logout": EVERYONE,
    "GET /support": frozenset({ADMIN, OPERATOR, SUPPORT}),  # operators: without personal fields
    "GET /support/households/{code}": frozenset({ADMIN, OPERATOR, SUPPORT}),
    "POST /support/households/{code}/enrol": frozenset({ADMIN, SUPPORT}),
    "POST /support/households/{code}/{action}": frozenset({ADMIN, SUPPORT}),  # suspend, resume, cancel
    "GET /schools": frozenset({ADMIN, OPERATOR, SCHOOL}),  # a school user: sent on to its own school
    "GET /schools/{code}": frozenset({ADMIN, OPERATOR, SCHOOL}),
    "GET /kpis": EVERYONE,
    "GET /grafana": frozenset({ADMIN, OPERATOR}),  # the way to Grafana (and whether the link is shown)
    # ---- KPIs: every role (aggregates only; a school user's per-school rows are its school's)
    **{f"GET /api/kpis{path}": EVERYONE for path in (
        "", "/subscriptions/monthly", "/subscriptions/districts", "/tablets", "/tablets/home", "/schools/bandwidth",
        "/availability", "/tablets/daily", "/telework/monthly", "/availability/monthly")},
    # ---- enrolment jobs and line changes: admin and support (the help desk); a job's progress for operators
    "POST /api/enrolments": frozenset({ADMIN, SUPPORT}),
    "POST /api/households/{code}/suspend": frozenset({ADMIN, SUPPORT}),
    "POST /api/households/{code}/resume": frozenset({ADMIN, SUPPORT}),
    "POST /api/households/{code}/cancel": frozenset({ADMIN, SUPPORT}),
    "GET /api/jobs/{job_id}": frozenset({ADMIN, OPERATOR, SUPPORT}),
}


def allowed(route: str, role: Role, table: Mapping[str, frozenset[Role]] = ACCESS) -> bool:
    """True if ``role`` may call ``route`` ("METHOD /path"); unknown routes are allowed to nobody."""
    return role in table.get(route, frozenset())


def matrix_markdown(table: Mapping[str, frozenset[Role]] = ACCESS) -> str:
    """The table as Markdown, for the README and ``python -m api.routes_access``."""
    roles = list(Role)
    lines = ["| route | " + " | ".join(roles) + " |", "|---|" + "---|" * len(roles)]
    for route in sorted(PUBLIC):
        lines.append(f"| `{route}` | " + " | ".join("public" for _ in roles) + " |")
    for route, who in table.items():
        lines.append(f"| `{route}` | " + " | ".join("yes" if r in who else "-" for r in roles) + " |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    # The core table; GET /api/me lists the merged one a running app enforces for the caller's role.
    print(matrix_markdown())
