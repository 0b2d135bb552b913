"""Background provisioning jobs: an enrolment (or a suspend, resume, cancel) runs for seconds to minutes
against real devices, so a request only queues it and answers ``202`` with the job's URL.

A small in-process runner: a bounded ``ThreadPoolExecutor`` (``workers`` threads) plus a bound on the jobs
waiting for one (``max_pending``), one unfinished job per household at a time (a second click gets the
first job back instead of a second dialogue with the OLT), and the last ``keep`` finished jobs kept in
memory for their pages. Jobs do not survive a restart, but what they did does: the Provisioner writes
each run to the ``Enrolment`` table and the audit log as it goes.

Each job records its progress (the Provisioner's ``progress(step, message)`` callback) with the time of
each step, and its final ``Outcome``: the run's state, the message with the device's own words on a
refusal, the ONT id and the Rx power read back over SNMP.

Nothing here logs personal data: a job knows a household by its code, never by its name or address, and
its log lines name the job and the run (ids), never the code; the code is in the audit table.
"""

from __future__ import annotations

import enum
import logging
import secrets
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from ftthnoc.config import Config
from ftthnoc.inventory.models import EnrolmentState
from provisioning.enrol import Outcome, Progress, Provisioner

log = logging.getLogger(__name__)

#: What a job may do to a household's line (the Provisioner's workflows).
JOB_KINDS: tuple[str, ...] = ("enrol", "suspend", "resume", "cancel")


class JobState(enum.StrEnum):
    """``queued`` and ``running`` while it runs; afterwards the run's own state (``EnrolmentState``)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    NOOP = "noop"
    FAILED = "failed"
    ATTENTION = "attention"

    @property
    def finished(self) -> bool:
        return self not in (JobState.QUEUED, JobState.RUNNING)


class RunnerBusy(Exception):
    """Too many jobs are waiting already; the caller should try again later."""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class StepRecord:
    step: str
    message: str
    at: datetime


@dataclass(slots=True)
class Job:
    """One job; read it through ``JobRunner.get`` (a consistent copy), never while it runs."""

    id: str
    kind: str
    household: str
    actor: str
    serial: str | None = None
    dry_run: bool = False
    state: JobState = JobState.QUEUED
    steps: list[StepRecord] = field(default_factory=list)
    outcome: Outcome | None = None
    created_at: datetime = field(default_factory=_now)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def url(self) -> str:
        return f"/api/jobs/{self.id}"

    def copy(self) -> Job:
        return replace(self, steps=list(self.steps))

    def as_json(self) -> dict[str, Any]:
        """The job resource of ``GET /api/jobs/{id}``."""
        out = self.outcome
        return {
            "job": self.id,
            "url": self.url,
            "kind": self.kind,
            "household": self.household,
            "serial": self.serial,
            "dry_run": self.dry_run,
            "actor": self.actor,
            "state": str(self.state),
            "finished": self.state.finished,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "steps": [{"step": s.step, "message": s.message, "at": s.at} for s in self.steps],
            "outcome": None if out is None else outcome_json(out),
        }


def outcome_json(out: Outcome) -> dict[str, Any]:
    """An Outcome as the API shows it: the device's words in ``message``, the changes a dry run would send."""
    return {
        "state": str(out.state),
        "ok": out.ok,
        "message": out.message,
        "serial": out.serial,
        "olt": out.olt,
        "pon_port": out.pon_port,
        "ont_id": out.ont_id,
        "rx_dbm": out.rx_dbm,
        "run_id": out.run_id,
        "seconds": round(out.seconds, 3),
        "planned_commands": out.planned_commands() if out.dry_run else [],
    }


ProvisionerFactory = Callable[[Engine, Config, str, Progress], Provisioner]


def _default_factory(engine: Engine, config: Config, actor: str, progress: Progress) -> Provisioner:
    return Provisioner(engine, config, actor=actor, progress=progress)


class JobRunner:
    """Runs provisioning jobs on a few threads; see the module's docstring for the bounds."""

    def __init__(self, engine: Engine, config: Config, *, workers: int = 2, max_pending: int = 32,
                 keep: int = 500, factory: ProvisionerFactory | None = None) -> None:  # fmt: skip
        self.engine = engine
        self.config = config
        self.max_pending = max_pending
        self.keep = keep
        self._factory = factory or _default_factory
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ftthnoc-job")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._closed = False

    # ------------------------------------------------------------------ submit and read
    def submit(self, kind: str, household: str, actor: str, *, serial: str | None = None,
               dry_run: bool = False) -> tuple[Job, bool]:  # fmt: skip
        """Queue a job; returns (a copy of the job, True) or, if the household already has an unfinished
        job, (that job, False). Raises RunnerBusy past ``max_pending`` unfinished jobs."""
        if kind not in JOB_KINDS:
            raise ValueError(f"unknown job kind {kind!r}")
        if kind == "enrol" and not serial:
            raise ValueError("an enrolment needs the ONU's serial")
        with self._lock:
            if self._closed:
                raise RunnerBusy("the job runner is shutting down")
            unfinished = [j for j in self._jobs.values() if not j.state.finished]
            for other in unfinished:
                if other.household == household:
                    return other.copy(), False
            if len(unfinished) >= self.max_pending:
                raise RunnerBusy(f"{len(unfinished)} provisioning jobs are waiting already")
            job = Job(secrets.token_urlsafe(12), kind, household, actor, serial, dry_run)
            self._jobs[job.id] = job
            self._trim()
            copy = job.copy()
        self._pool.submit(self._run, job)
        log.info("job %s queued: %s by %s%s", job.id, kind, actor, " (dry run)" if dry_run else "")
        return copy, True

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else job.copy()

    def jobs(self, household: str | None = None) -> list[Job]:
        """Known jobs, newest first (of one household if given)."""
        with self._lock:
            return [j.copy() for j in reversed(self._jobs.values()) if household in (None, j.household)]

    def wait(self, job_id: str, timeout: float = 120.0, interval: float = 0.05) -> Job | None:
        """Block until the job has finished (for tests and the CLI); the job as it stands at the end."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job is None or job.state.finished or time.monotonic() >= deadline:
                return job
            time.sleep(interval)

    def shutdown(self, wait: bool = True) -> None:
        """Refuse new jobs; with ``wait``, let the running ones finish (a half-done dialogue is worse)."""
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=True)

    # ------------------------------------------------------------------ internals
    def _trim(self) -> None:
        """Forget the oldest finished jobs past ``keep`` (caller holds the lock)."""
        excess = len(self._jobs) - self.keep
        if excess <= 0:
            return
        for job_id in [j.id for j in self._jobs.values() if j.state.finished][:excess]:
            del self._jobs[job_id]

    def _progress(self, job: Job) -> Progress:
        def record(step: str, message: str) -> None:
            with self._lock:
                job.steps.append(StepRecord(step, message, _now()))

        return record

    def _run(self, job: Job) -> None:
        with self._lock:
            job.state, job.started_at = JobState.RUNNING, _now()
        try:
            provisioner = self._factory(self.engine, self.config, job.actor, self._progress(job))
            if job.kind == "enrol":
                assert job.serial is not None
                out = provisioner.enrol(job.household, job.serial, dry_run=job.dry_run)
            else:
                out = getattr(provisioner, job.kind)(job.household, dry_run=job.dry_run)
            state = JobState(str(out.state))
        except Exception as exc:  # a bug or a lost database: the job fails, the runner lives on
            # the stack without the exception's message, which may name the household (it is in the outcome)
            log.error("job %s (%s) crashed: %s\n%s", job.id, job.kind, type(exc).__name__,
                      "".join(traceback.format_tb(exc.__traceback__)))
            out = Outcome(job.household, job.kind, EnrolmentState.FAILED, f"internal error: {type(exc).__name__}: "
                          f"{exc}", serial=job.serial, dry_run=job.dry_run)  # fmt: skip
            state = JobState.FAILED
        with self._lock:
            job.outcome, job.state, job.finished_at = out, state, _now()
        log.info("job %s finished: %s run %s %s", job.id, job.kind, out.run_id, state)
