"""Fixtures: the sample town of ``tests/ftthnoc/inventory/conftest.py`` in a SQLite file, with users of every
role, tokens (live, expired, revoked, of a disabled user), incidents, a provisioning run and audit entries.

The seeded file is built once per session and copied for each test (or module) that uses it, so tests
that write (audit entries, logins, revocations) never see each other's rows.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

with warnings.catch_warnings():  # starlette 1.x nags about httpx; TestClient still runs on it
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from api.app import create_app
from api.security import hash_password, issue_token, revoke_tokens
from ftthnoc.incidents.models import Incident
from ftthnoc.inventory import db
from ftthnoc.inventory.io import import_document
from ftthnoc.inventory.models import AuditEntry, Enrolment, EnrolmentState, Household, School, Tablet, User
from ftthnoc.settings import Settings
from tests.ftthnoc.inventory.conftest import SAMPLE

SECRET = b"test-secret-for-csrf-0123456789ab"
PASSWORD = "correct horse battery staple"
ROLES = ("admin", "operator", "support", "school", "viewer")


def settings_for(data_dir: Path, **values: Any) -> Settings:
    """The settings of a test app: the test secret (unless ``api_secret`` is given), files in ``data_dir``."""
    values.setdefault("api_secret", SecretStr(SECRET.decode()))
    return Settings(data_dir=data_dir, **values)


@dataclass(frozen=True)
class Seeded:
    path: Path
    #: role (and "school2", "expired", "revoked", "disabled") -> API token
    tokens: dict[str, str]
    #: tablet ids by (school code, asset no)
    tablets: dict[tuple[str, str], int]
    #: incident ids: "open" and "closed"
    incidents: dict[str, int]


def _seed(path: Path) -> Seeded:
    url = f"sqlite:///{path}"
    db.upgrade(url)
    engine = db.make_engine(url)
    tokens: dict[str, str] = {}
    try:
        with db.session_scope(engine, actor="seed") as s:
            import_document(s, SAMPLE)
            s.flush()
            school_ids = {code: sid for code, sid in s.execute(select(School.code, School.id))}
            people = {
                "admin": User(name="alice", role="admin", password_hash=hash_password(PASSWORD)),
                "operator": User(name="oscar", role="operator"),
                "support": User(name="sue", role="support", password_hash=hash_password(PASSWORD)),
                "school": User(name="chiyoda-teacher", role="school", school_id=school_ids["chiyoda-es"]),
                "school2": User(name="oasa-teacher", role="school", school_id=school_ids["oasa-es"]),
                "viewer": User(name="vera", role="viewer"),
                "disabled": User(name="dave", role="admin", active=False, password_hash=hash_password(PASSWORD)),
            }
            s.add_all(people.values())
            s.flush()
            for key, user in people.items():
                tokens[key] = issue_token(s, user, lifetime=timedelta(days=30)).token
            tokens["expired"] = issue_token(s, people["admin"], lifetime=timedelta(seconds=-1)).token
            revoked = issue_token(s, people["admin"], lifetime=None)
            tokens["revoked"] = revoked.token
            revoke_tokens(s, prefix=revoked.prefix)

            now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
            open_incident = Incident(kind="feeder_cut", status="open", district="chiyoda", olt="olt-chiyoda-1",
                                     pon_port="0/1/0", started_at=now, affected_count=2, onu_count=2,
                                     reportable=False, cause="los")  # fmt: skip
            closed_incident = Incident(kind="power_outage", status="closed", district="oasa", olt=None,
                                       pon_port=None, started_at=now - timedelta(days=2),
                                       ended_at=now - timedelta(days=2) + timedelta(hours=3),
                                       duration_seconds=3 * 3600, affected_count=1, onu_count=1,
                                       reportable=True, cause="dying_gasp")  # fmt: skip
            s.add_all([open_incident, closed_incident])
            household = s.scalars(select(Household).where(Household.code == "HH-000001")).one()
            audit = AuditEntry(actor="sue", action="enrol", entity="household:HH-000001", outcome="ok",
                               detail={"commands": ["ont add 0 0 sn-auth HWTC-A1B2C3D4"]})  # fmt: skip
            s.add(audit)
            s.add(AuditEntry(actor="oscar", action="reconcile", entity="school:chiyoda-es", outcome="ok",
                             detail={"added": 2}))  # fmt: skip
            s.flush()
            s.add(Enrolment(household_id=household.id, kind="enrol", state=EnrolmentState.DONE, step="activate",
                            serial="HWTC-A1B2C3D4", olt="olt-chiyoda-1", pon_port="0/1/0", ont_id=0, rx_dbm=-19.5,
                            actor="sue", started_at=now - timedelta(days=30),
                            finished_at=now - timedelta(days=30) + timedelta(minutes=2),
                            audit_id=audit.id))  # fmt: skip
            s.flush()
            tablets = {(code, asset): tid for tid, code, asset in
                       s.execute(select(Tablet.id, School.code, Tablet.asset_no).join(School))}  # fmt: skip
            incidents = {"open": open_incident.id, "closed": closed_incident.id}
    finally:
        engine.dispose()
    return Seeded(path=path, tokens=tokens, tablets=tablets, incidents=incidents)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return _seed(tmp_path_factory.mktemp("api-seed") / "inventory.db")


def engine_copy(seeded: Seeded, directory: Path) -> Engine:
    target = directory / "inventory.db"
    shutil.copyfile(seeded.path, target)
    return db.make_engine(f"sqlite:///{target}")


@pytest.fixture
def engine(seeded: Seeded, tmp_path: Path) -> Iterator[Engine]:
    eng = engine_copy(seeded, tmp_path)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def app(engine: Engine, tmp_path: Path) -> FastAPI:
    return create_app(engine, settings=settings_for(tmp_path))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
