"""No household code, name, address or phone reaches a log record: provisioning jobs run through the API's
job runner against the simulated OLTs (real SSH, netmiko, SNMP), with every logger at DEBUG. Logs name
jobs, runs and households by their ids; the household's code belongs in the audit table."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.engine import Engine

from api.jobs import Job, JobRunner, JobState
from ftthnoc.config import Config
from ftthnoc.errors import InventoryError
from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document
from provisioning.enrol import Progress, Provisioner
from tests.provisioning.conftest import Env

pytestmark = pytest.mark.usefixtures("clean_faults")

CONTACT = {"name": "山田 花子", "address": "北広島町有田 1234-5", "phone": "0826-72-0123"}


def _finished(runner: JobRunner, job: Job) -> Job:
    done = runner.wait(job.id, timeout=180)
    assert done is not None and done.state.finished, done
    return done


def test_no_household_code_or_contact_reaches_a_log_record(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    olt = env.olt("huawei")
    ok_code, ok_serial, _ = env.install(olt)
    bad_code, bad_serial, _ = env.install(olt)
    with db.session_scope(env.engine) as s:
        import_document(s, {"household_contacts": [{"household": code, **CONTACT} for code in (ok_code, bad_code)]})
    caplog.set_level(logging.DEBUG)

    runner = JobRunner(env.engine, env.config, workers=1)
    try:
        enrolled = _finished(runner, runner.submit("enrol", ok_code, "support-test", serial=ok_serial)[0])
        assert enrolled.state == JobState.DONE, enrolled.outcome
        suspended = _finished(runner, runner.submit("suspend", ok_code, "support-test")[0])
        assert suspended.state == JobState.DONE, suspended.outcome
        # a session lost after `ont add` (the dropped line carries the code as the ONT's description): undo
        env.cli.servers[olt].faults.drop(r"^ont add", when="after")
        failed = _finished(runner, runner.submit("enrol", bad_code, "support-test", serial=bad_serial)[0])
        assert failed.state == JobState.FAILED and failed.outcome is not None, failed
        assert "nothing is left" in failed.outcome.message
    finally:
        runner.shutdown()

    def crashing(engine: Engine, config: Config, actor: str, progress: Progress) -> Provisioner:
        raise InventoryError(f"household {bad_code} ({CONTACT['name']}) could not be read")

    crash = JobRunner(env.engine, env.config, workers=1, factory=crashing)
    try:
        crashed = _finished(crash, crash.submit("cancel", bad_code, "support-test")[0])
        assert crashed.state == JobState.FAILED
    finally:
        crash.shutdown()

    records = caplog.records
    assert records, "nothing was logged at all"
    text = caplog.text  # every record as formatted, tracebacks included
    secrets = (ok_code, bad_code, *CONTACT.values())
    leaks = [f"{r.name}: {r.getMessage()}" for r in records if any(s in r.getMessage() for s in secrets)]
    assert leaks == []
    assert not [s for s in secrets if s in text]
    # what the logs say instead: the job and run ids
    for job in (enrolled, suspended, failed, crashed):
        assert any(job.id in r.getMessage() for r in records), job.id
    for job in (enrolled, suspended, failed):
        assert job.outcome is not None and job.outcome.run_id is not None
        assert any(f"run {job.outcome.run_id}" in r.getMessage() for r in records), job.outcome.run_id
