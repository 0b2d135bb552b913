"""Provisioning jobs on a household's line (enrol, suspend, resume, cancel), for the API and the pages.

Checks what the inventory can tell (the household exists, the serial is well-formed), then queues the job
on the application's ``api.jobs.JobRunner``; nothing here talks to a device.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.jobs import Job, JobRunner, RunnerBusy
from api.security import Principal
from api.services import households
from api.services.common import Conflict, Invalid, NotFound, Unavailable
from ftthnoc.normalise import normalise_serial

#: The line changes besides an enrolment.
LINE_CHANGES: tuple[str, ...] = ("suspend", "resume", "cancel")


def start(session: Session, runner: JobRunner, principal: Principal, kind: str, code: str, *,
          serial: str | None = None, dry_run: bool = False) -> tuple[Job, bool]:  # fmt: skip
    """Queue ``kind`` on household ``code``: (the job, whether it is new). A second identical request
    while the first runs gets the first job back; a different one is a ``Conflict``."""
    if kind == "enrol":
        try:
            serial = normalise_serial(serial or "")
        except ValueError as exc:
            raise Invalid(str(exc)) from None
    elif kind not in LINE_CHANGES:
        raise NotFound(f"action {kind}")
    if not households.exists(session, code):
        raise NotFound(f"household {code}")
    try:
        job, created = runner.submit(kind, code, principal.name, serial=serial, dry_run=dry_run)
    except RunnerBusy as exc:
        raise Unavailable(str(exc), headers={"Retry-After": "30"}) from None
    if not created and (job.kind, job.serial, job.dry_run) != (kind, serial, dry_run):
        raise Conflict(f"household {code} has an unfinished {job.kind} job: {job.url}")
    return job, created


def get(runner: JobRunner, job_id: str) -> Job:
    job = runner.get(job_id)
    if job is None:
        raise NotFound(f"job {job_id}")
    return job
