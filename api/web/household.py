"""``/support/households/{code}``: one household, its ONUs and history, and (for who may change lines)
the enrol form and line actions, which start jobs (``api.services.enrolments``, as the API's routes do)
that the page then follows: a few lines of ``static/app.js`` poll ``GET /api/jobs/{id}``; without script
the page refreshes itself. Pages never talk to a device.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response, status
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from api.deps import Auth, Authenticated, DbSession, csrf_protect, job_runner, may, onu_live, onu_state
from api.jobs import Job, JobRunner
from api.problems import status_of
from api.services import enrolments, households, lines, onus
from api.services.common import NotFound, ServiceError, Window
from api.web import charts, jobtext
from api.web.common import form_error, render
from api.web.i18n import LANGS, Translator, lang_of, translator
from ftthnoc.config import Config, Thresholds, default_thresholds
from ftthnoc.inventory.models import HouseholdStatus
from ftthnoc.linehistory import HistoryUnavailable, LineHistoryReader

log = logging.getLogger(__name__)

#: Provisioning runs and status changes shown at most.
HISTORY = 50
#: Line changes that run only once the clerk has typed the household's code (the others run at once).
CONFIRMED: frozenset[str] = frozenset({"suspend", "cancel"})

router = APIRouter(include_in_schema=False)

Code = Annotated[str, Path(max_length=32)]


def _job_view(job: Job, t: Translator) -> dict[str, Any]:
    """The job as the page shows it: our words translated (steps, outcome), the device's apart."""
    data = job.as_json()
    data["state_key"] = {"queued": "job_queued", "running": "job_running"}.get(data["state"], "job_finished")
    data["step_texts"] = [(s.at, s.step, jobtext.step_text(t, s.step, s.message)) for s in job.steps]
    data["step_labels"] = json.dumps(jobtext.step_labels(t), ensure_ascii=False)
    if job.outcome is not None:
        data["summary"] = jobtext.outcome_text(t, job.outcome)
        data["device"] = jobtext.device_words(job.outcome)
    return data


def _thresholds(request: Request) -> dict[str, Thresholds]:
    """The PON classes' Rx alarm levels: the loaded configuration's, else the defaults the poller uses."""
    config: Config | None = getattr(request.app.state, "config", None)
    return dict(config.thresholds) if config is not None else default_thresholds()


@dataclass(frozen=True)
class OnuWeek:
    """What the page shows of one ONU's last week: ``state`` ``shown`` (flaps and sparkline), ``off`` (no
    history kept), ``unavailable`` (the store did not answer; ``detail`` its words, shown apart)."""

    state: str
    flaps: int | None = None
    chart: Markup | None = None
    has_rx: bool = False
    source: str | None = None
    detail: str | None = None


def _week(reader: LineHistoryReader | None, onu: lines.OnuStatus, t: Translator) -> OnuWeek:
    """One ONU's week from the configured reader; never raises (a broken store is a sentence on the page)."""
    if reader is None:
        return OnuWeek("off")
    try:
        week = reader.history(onu.olt, onu.pon_port, onu.onu_id)
    except HistoryUnavailable as exc:
        log.warning("line history unavailable for %s %s #%s: %s", onu.olt, onu.pon_port, onu.onu_id, exc)
        return OnuWeek("unavailable", detail=str(exc))
    except Exception as exc:  # a reader's bug must not take the household page down
        log.exception("line history failed for %s %s #%s", onu.olt, onu.pon_port, onu.onu_id)
        return OnuWeek("unavailable", detail=type(exc).__name__)
    span = max((week.end - week.start).total_seconds(), 1.0)
    hours = [((h.at - week.start).total_seconds() / span, h.low, h.high) for h in week.rx]
    limits = onu.thresholds
    caption = [] if limits is None else [
        t("week_limit_warning", value=f"{limits.rx_low_warning:.1f}"),
        t("week_limit_critical", value=f"{limits.rx_low_critical:.1f}")]  # fmt: skip
    chart = charts.rx_week(hours, t("week_rx_label", serial=onu.serial),
                           warning=limits.rx_low_warning if limits else None,
                           critical=limits.rx_low_critical if limits else None,
                           start_label=t("week_start"), end_label=t("week_end"), caption=caption)  # fmt: skip
    return OnuWeek("shown", week.flaps, chart, bool(hours), week.source)


def _page(request: Request, session: Session, auth: Authenticated, code: str, *, job_id: str | None = None,
          error: str | None = None, error_detail: str | None = None,
          status_code: int = 200) -> Response:  # fmt: skip
    principal = auth.principal
    record = households.get(session, principal, code, via="web")
    t = translator(lang_of(request))
    job = None
    runner: JobRunner | None = getattr(request.app.state, "jobs", None)
    if job_id and runner is not None:
        found_job = runner.get(job_id)
        if found_job is not None and found_job.household == record.code:
            job = _job_view(found_job, t)
    hs = record.status
    can_change = may(request, principal, "POST /support/households/{code}/{action}")
    actions = [] if not can_change else [
        a for a, ok in (("suspend", hs == HouseholdStatus.ACTIVE), ("resume", hs == HouseholdStatus.SUSPENDED),
                        ("cancel", hs in (HouseholdStatus.ACTIVE, HouseholdStatus.SUSPENDED)))
        if ok
    ]  # fmt: skip
    can_enrol = may(request, principal, "POST /support/households/{code}/enrol") and hs == HouseholdStatus.INSTALLED
    line = lines.status(session, onu_state(request), record.code, _thresholds(request), onu_live(request))
    reader: LineHistoryReader | None = getattr(request.app.state, "line_history", None)
    weeks = [_week(reader, o, t) for o in line.onus]
    return render(request, "household.html", auth, status_code, household=record, status=str(hs), line=line,
                  weeks=weeks,
                  district=record.district, district_name=record.district_name,
                  personal=record.personal is not None, contact=record.personal,
                  onus=onus.search(session, None, Window(HISTORY), household=record.code).items,
                  runs=households.runs(session, record, HISTORY),
                  changes=households.status_changes(session, record, HISTORY), job=job, error=error,
                  error_detail=error_detail, reason_of=lambda message: jobtext.failure_reason(t, message),
                  can_enrol=can_enrol, actions=actions, busy=job is not None and not job["finished"])  # fmt: skip


@router.get("/support/households/{code}")
def household_page(request: Request, session: DbSession, auth: Auth, code: Code,
                   job: Annotated[str | None, Query(max_length=64)] = None) -> Response:  # fmt: skip
    return _page(request, session, auth, code, job_id=job)


def _start(request: Request, session: Session, auth: Authenticated, code: str, kind: str, *,
           serial: str | None = None, dry_run: bool = False) -> Response:  # fmt: skip
    try:
        job, _created = enrolments.start(session, job_runner(request), auth.principal, kind, code, serial=serial,
                                         dry_run=dry_run)  # fmt: skip
    except NotFound:
        raise
    except ServiceError as exc:
        return _page(request, session, auth, code, error=form_error(request, exc), error_detail=exc.detail,
                     status_code=status_of(exc))  # fmt: skip
    query = {"job": job.id}
    if request.query_params.get("lang") in LANGS:
        query["lang"] = request.query_params["lang"]
    return RedirectResponse(f"/support/households/{code}?{urlencode(query)}", status.HTTP_303_SEE_OTHER)


@router.post("/support/households/{code}/enrol", dependencies=[Depends(csrf_protect)])
def household_enrol(
    request: Request,
    session: DbSession,
    auth: Auth,
    code: Code,
    serial: Annotated[str, Form(max_length=32)] = "",
    dry_run: Annotated[bool, Form()] = False,
) -> Response:
    return _start(request, session, auth, code, "enrol", serial=serial, dry_run=dry_run)


@router.post("/support/households/{code}/{action}", dependencies=[Depends(csrf_protect)])
def household_line(request: Request, session: DbSession, auth: Auth, code: Code,
                   action: Annotated[str, Path(max_length=16)],
                   confirm_code: Annotated[str | None, Form(max_length=64)] = None) -> Response:  # fmt: skip
    """A line change; suspend and cancel first answer a confirmation page, and run only when the form
    comes back with the household's code typed (spaces and case ignored, nothing else)."""
    if action not in enrolments.LINE_CHANGES:
        raise NotFound(f"action {action}")
    typed = None if confirm_code is None else "".join(confirm_code.split()).upper()
    if action in CONFIRMED and typed != code.upper():
        record = households.get(session, auth.principal, code, via="web")  # the clerk sees whose line it is
        t = translator(lang_of(request))
        mismatch = t("confirm_mismatch") if confirm_code is not None else None
        return render(request, "confirm.html", auth, 200 if mismatch is None else 422, household=record,
                      action=action, action_word=t(action), contact=record.personal, error=mismatch)  # fmt: skip
    return _start(request, session, auth, code, action)
