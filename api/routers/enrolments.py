"""Provisioning as background jobs: ``POST /api/enrolments`` and ``POST /api/households/{code}/suspend``,
``/resume``, ``/cancel`` answer ``202`` with the job's URL; ``GET /api/jobs/{id}`` shows its progress and
outcome (the device's own words when it refused).

Needs, on the application:

* ``app.state.engine`` (the inventory, as for every router);
* ``app.state.config``: the ``ftthnoc.config.Config`` with the OLTs' credentials and the ``provisioning``
  section (plans, verification); without it these routes answer 503;
* optionally ``app.state.jobs``: a ``api.jobs.JobRunner``; made on first use from the two above when
  absent. Its threads should be stopped on shutdown: ``app.state.jobs.shutdown()`` in the lifespan.

The request never talks to a device: ``api.services.enrolments`` (shared with the household page) checks
what it can in the inventory (household known, serial well-formed), queues the job and returns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status
from pydantic import BaseModel, Field

from api.deps import CurrentPrincipal, DbSession, Runner, csrf_protect
from api.jobs import Job, JobRunner
from api.routers.common import NO_NUL
from api.services import enrolments

#: Unsafe requests from a web session must carry its CSRF token (API tokens need none).
router = APIRouter(tags=["provisioning"])
_CSRF = [Depends(csrf_protect)]


JOB_ID = r"^[A-Za-z0-9_-]{1,64}$"
HOUSEHOLD_CODE = Path(max_length=32, pattern=NO_NUL, description="Household code, e.g. HH-000123.")


# ------------------------------------------------------------------------------------------ schemas
class EnrolmentIn(BaseModel):
    household: str = Field(max_length=32, pattern=NO_NUL, description="Code of an installed household.")
    serial: str = Field(max_length=32, pattern=NO_NUL, description="The ONU's serial, e.g. HWTC-5EED0001.")
    dry_run: bool = Field(False, description="Read the devices and list the changes; send none.")


class LineChangeIn(BaseModel):
    dry_run: bool = Field(False, description="Read the devices and list the changes; send none.")


class JobAccepted(BaseModel):
    job: str = Field(description="The job's id.")
    url: str = Field(description="Where to follow it: GET this until `finished`.")
    created: bool = Field(description="False: the household already had this job running; this is that job.")


class StepOut(BaseModel):
    step: str = Field(description="find, add, service, save, verify, activate, undo, ...")
    message: str
    at: datetime


class OutcomeOut(BaseModel):
    state: str = Field(description="done, noop, failed (nothing left on the device) or attention.")
    ok: bool
    message: str = Field(description="What happened; on a refusal, the device's own words.")
    serial: str | None
    olt: str | None
    pon_port: str | None
    ont_id: int | None
    rx_dbm: float | None = Field(description="Optical power the ONU receives, read back over SNMP.")
    run_id: int | None = Field(description="The run in the enrolments table (null for a dry run).")
    seconds: float
    planned_commands: list[str] = Field(description="Dry run only: the changes a real run would send.")


class JobOut(BaseModel):
    job: str
    url: str
    kind: str = Field(description="enrol, suspend, resume or cancel.")
    household: str
    serial: str | None
    dry_run: bool
    actor: str
    state: str = Field(description="queued, running, then the run's state: done, noop, failed or attention.")
    finished: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    steps: list[StepOut]
    outcome: OutcomeOut | None


# ------------------------------------------------------------------------------------------- routes
def _accepted(response: Response, job: Job, created: bool) -> JobAccepted:
    response.headers["Location"] = job.url
    return JobAccepted(job=job.id, url=job.url, created=created)


_ACCEPTED: dict[int | str, dict[str, object]] = {
    403: {"description": "Role not allowed, or (web session) CSRF token missing or wrong."},
    404: {"description": "No such household."},
    409: {"description": "The household has another unfinished job."},
    503: {"description": "Too many jobs waiting, or provisioning not configured."},
}


@router.post("/enrolments", status_code=status.HTTP_202_ACCEPTED, summary="Enrol a household's ONU (a job)",
             responses=_ACCEPTED, dependencies=_CSRF)  # fmt: skip
def create_enrolment(body: EnrolmentIn, session: DbSession, principal: CurrentPrincipal, runner: Runner,
                     response: Response) -> JobAccepted:  # fmt: skip
    job, created = enrolments.start(session, runner, principal, "enrol", body.household, serial=body.serial,
                                    dry_run=body.dry_run)  # fmt: skip
    return _accepted(response, job, created)


def _line_change(kind: str, code: str, body: LineChangeIn | None, session: DbSession, principal: CurrentPrincipal,
                 runner: JobRunner, response: Response) -> JobAccepted:  # fmt: skip
    job, created = enrolments.start(session, runner, principal, kind, code, dry_run=bool(body and body.dry_run))
    return _accepted(response, job, created)


@router.post("/households/{code}/suspend", status_code=status.HTTP_202_ACCEPTED, responses=_ACCEPTED,
             dependencies=_CSRF, summary="Suspend a household's line (a job)")  # fmt: skip
def suspend_household(code: Annotated[str, HOUSEHOLD_CODE], session: DbSession, principal: CurrentPrincipal,
                      runner: Runner, response: Response, body: LineChangeIn | None = None) -> JobAccepted:  # fmt: skip
    return _line_change("suspend", code, body, session, principal, runner, response)


@router.post("/households/{code}/resume", status_code=status.HTTP_202_ACCEPTED, responses=_ACCEPTED,
             dependencies=_CSRF, summary="Resume a suspended household's line (a job)")  # fmt: skip
def resume_household(code: Annotated[str, HOUSEHOLD_CODE], session: DbSession, principal: CurrentPrincipal,
                     runner: Runner, response: Response, body: LineChangeIn | None = None) -> JobAccepted:  # fmt: skip
    return _line_change("resume", code, body, session, principal, runner, response)


@router.post("/households/{code}/cancel", status_code=status.HTTP_202_ACCEPTED, responses=_ACCEPTED,
             dependencies=_CSRF, summary="Cancel a household's line: remove its ONT (a job)")  # fmt: skip
def cancel_household(code: Annotated[str, HOUSEHOLD_CODE], session: DbSession, principal: CurrentPrincipal,
                     runner: Runner, response: Response, body: LineChangeIn | None = None) -> JobAccepted:  # fmt: skip
    return _line_change("cancel", code, body, session, principal, runner, response)


@router.get("/jobs/{job_id}", summary="A provisioning job's progress and outcome",
            responses={404: {"description": "Unknown job (or forgotten: jobs live in memory)."}})  # fmt: skip
def get_job(job_id: Annotated[str, Path(pattern=JOB_ID)], runner: Runner) -> JobOut:
    return JobOut.model_validate(enrolments.get(runner, job_id).as_json())
