"""Fixtures: every database test runs on a SQLite file and on a fresh PostgreSQL database.

PostgreSQL comes from ``FTTHNOC_TEST_POSTGRES_URL`` (an admin URL, e.g. the one printed by
``scripts/start-postgres``); each test gets its own database, dropped afterwards.

A test that needs a migrated database gets a copy of one migrated once per session (a file copy for
SQLite, ``CREATE DATABASE … TEMPLATE`` for PostgreSQL): running the migrations cost 2–3 s a test. The
migrations themselves are tested as migrations in ``test_db.py``.
"""

from __future__ import annotations

import atexit
import copy
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from ftthnoc.inventory import db
from ftthnoc.inventory.models import Base

POSTGRES_ENV = "FTTHNOC_TEST_POSTGRES_URL"

MakeDatabase = Callable[[], str]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeDatabase]:
    """A factory of empty databases of one backend; all of them are removed after the test."""
    if request.param == "sqlite":
        counter = iter(range(1_000))

        def make_sqlite() -> str:
            # A directory that does not exist yet: make_engine/upgrade must create it.
            return f"sqlite:///{tmp_path / f'db{next(counter)}' / 'inventory.db'}"

        yield make_sqlite
        return
    admin_url = _postgres_admin_url()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def make_postgres() -> str:
        name = f"ftthnoc_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    try:
        yield make_postgres
    finally:
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _postgres_admin_url() -> str:
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        pytest.skip(f'{POSTGRES_ENV} is not set; run `eval "$(scripts/start-postgres)"` to test PostgreSQL')
    return admin_url


_TEMPLATES: dict[str, str] = {}


def _migrated_template(backend: str, tmp_root: Path) -> str:
    """A database migrated to head, once per session and backend: a SQLite file, or a PostgreSQL template."""
    if backend not in _TEMPLATES:
        if backend == "sqlite":
            path = tmp_root / "template" / "inventory.db"
            db.upgrade(f"sqlite:///{path}")
            _TEMPLATES[backend] = str(path)
        else:
            admin_url = _postgres_admin_url()
            name = f"ftthnoc_template_{os.getpid()}"
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            db.upgrade(make_url(admin_url).set(database=name).render_as_string(hide_password=False))
            _TEMPLATES[backend] = name
            atexit.register(_drop_database, admin_url, name)
    return _TEMPLATES[backend]


def _drop_database(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def migrate_from_template(database_url: str, tmp_root: Path) -> None:
    """Bring the empty database at ``database_url`` to head by copying the session's migrated template."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        target = Path(url.database or "")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_migrated_template("sqlite", tmp_root), target)
        return
    template = _migrated_template("postgres", tmp_root)
    admin = create_engine(_postgres_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{url.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{url.database}" TEMPLATE "{template}"'))
    finally:
        admin.dispose()


@pytest.fixture
def database_url(make_database: MakeDatabase) -> str:
    """An empty database (no schema) of the backend under test."""
    return make_database()


@pytest.fixture
def engine(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """An engine on a database migrated to head (a copy of the session's migrated template)."""
    migrate_from_template(database_url, tmp_path_factory.getbasetemp())
    eng = db.make_engine(database_url)
    try:
        yield eng
    finally:
        eng.dispose()


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows per inventory table: the before/after evidence that a refused import wrote nothing."""
    with engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in Base.metadata.tables.items()
        }


def table_snapshot(engine: Engine, *, skip: tuple[str, ...] = ("audit_entries",)) -> dict[str, list[Any]]:
    """Every row of every inventory table (ordered by its primary key), for "nothing changed" comparisons."""
    with engine.connect() as conn:
        return {
            name: [tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key.columns))]
            for name, table in Base.metadata.tables.items()
            if name not in skip
        }


SAMPLE: dict[str, list[dict[str, Any]]] = {
    "districts": [
        {"code": "chiyoda", "name": "千代田", "households": 3900},
        {"code": "oasa", "name": "大朝", "households": 1100},
    ],
    "olts": [
        {
            "name": "olt-chiyoda-1",
            "district": "chiyoda",
            "vendor": "huawei",
            "model": "MA5800-X7",
            "address": "10.0.0.1:161",
            "pon_class": "B+",
            "auth": "olt_v3",
            "modules": ["if_mib", "huawei_gpon"],
            "cli_address": "10.0.0.1:22",
            "cli_auth": "olt_admin",
        },
        {
            "name": "olt-oasa-1",
            "district": "oasa",
            "vendor": "zte",
            "model": "C320",
            "address": "10.0.1.1:1161",
            "pon_class": "C+",
            "auth": "zte_v2",
            "modules": ["if_mib", "zte_gpon"],
            "cli_address": None,
            "cli_auth": None,
        },
    ],
    "pon_ports": [
        {"olt": "olt-chiyoda-1", "port": "0/1/0"},
        {"olt": "olt-chiyoda-1", "port": "0/1/1"},
        {"olt": "olt-oasa-1", "port": "1/1/1"},
    ],
    # Two-stage splitting on 0/1/0 (1:4 then 1:8), in a cabinet; the other ports have no topology.
    "splitters": [
        {"name": "sp-chiyoda-1-a", "olt": "olt-chiyoda-1", "pon_port": "0/1/0", "stage": 1, "parent": None,
         "ratio": 4, "cabinet": "CAB-chiyoda-01", "lat": 34.6812, "lon": 132.5412},
        {"name": "sp-chiyoda-1-a1", "olt": "olt-chiyoda-1", "pon_port": "0/1/0", "stage": 2,
         "parent": "sp-chiyoda-1-a", "ratio": 8, "cabinet": "CAB-chiyoda-01", "lat": None, "lon": None},
    ],
    "households": [
        {"code": "HH-000001", "district": "chiyoda", "plan": "1G", "status": "active"},
        {"code": "HH-000002", "district": "chiyoda", "plan": "1G", "status": "suspended"},
        {"code": "HH-000003", "district": "oasa", "plan": "100M", "status": "active"},
        {"code": "HH-000004", "district": "oasa", "plan": "1G", "status": "applied"},
    ],
    "household_contacts": [
        {
            "household": "HH-000001",
            "name": "山田 太郎",
            "address": "千代田 有田 1-2",
            "phone": "0826-72-0001",
        },
        {"household": "HH-000002", "name": "佐藤 花子", "address": "千代田 壬生 3", "phone": None},
        {"household": "HH-000003", "name": "田中 一郎", "address": "大朝 4", "phone": "0826-82-0003"},
    ],
    # Probe addresses are documentation addresses (RFC 5737): nothing in these tests sends to them.
    "onus": [
        {
            "serial": "HWTC-A1B2C3D4",
            "olt": "olt-chiyoda-1",
            "pon_port": "0/1/0",
            "onu_id": 0,
            "household": "HH-000001",
            "mgmt_address": "192.0.2.10",
            "splitter": "sp-chiyoda-1-a1",
        },
        {
            "serial": "HWTC-A1B2C3D5",
            "olt": "olt-chiyoda-1",
            "pon_port": "0/1/0",
            "onu_id": 1,
            "household": "HH-000002",
            "mgmt_address": None,
            "splitter": "sp-chiyoda-1-a1",
        },
        # An Oasa home served from a Chiyoda OLT: its district label must be the home's.
        {
            "serial": "HWTC-A1B2C3D6",
            "olt": "olt-chiyoda-1",
            "pon_port": "0/1/1",
            "onu_id": 0,
            "household": "HH-000003",
            "mgmt_address": "192.0.2.12",
            "splitter": None,
        },
        {
            "serial": "ZTEG-C0000001",
            "olt": "olt-oasa-1",
            "pon_port": "1/1/1",
            "onu_id": 1,
            "household": None,
            "mgmt_address": "192.0.2.13",
            "splitter": None,
        },
    ],
    "schools": [
        {
            "code": "chiyoda-es",
            "name": "千代田小学校",
            "district": "chiyoda",
            "pupils": 250,
            "address": "192.0.2.20",
            "router_address": "192.0.2.20:22",
            "router_platform": "yamaha",
            "router_auth": "school_router",
            "dhcp_scope": 1,
            "uplink_target": "chiyoda-es-rtx",
            "uplink_interface": "LAN2",
        },
        {
            "code": "oasa-es",
            "name": "大朝小学校",
            "district": "oasa",
            "pupils": 60,
            "address": None,
            "router_address": None,
            "router_platform": None,
            "router_auth": None,
            "dhcp_scope": None,
            "uplink_target": None,
            "uplink_interface": None,
        },
    ],
    "tablets": [
        {
            "school": "chiyoda-es",
            "asset_no": "T-0001",
            "serial": "DMPXK001",
            "mac": "00:1a:2b:3c:4d:01",
            "os": "iPadOS",
            "grade": 1,
            "class_name": "1-1",
            "status": "active",
        },
        {
            "school": "chiyoda-es",
            "asset_no": "T-0002",
            "serial": "DMPXK002",
            "mac": "00:1a:2b:3c:4d:02",
            "os": "iPadOS",
            "grade": 2,
            "class_name": "2-1",
            "status": "active",
        },
        {
            "school": "oasa-es",
            "asset_no": "T-0001",
            "serial": "CHRM0001",
            "mac": "00:1a:2b:3c:4d:03",
            "os": "ChromeOS",
            "grade": None,
            "class_name": None,
            "status": "retired",
        },
    ],
    "bwa_stations": [
        {
            "name": "bwa-geihoku-1",
            "district": "oasa",
            "address": "10.0.2.1:161",
            "auth": "bwa_v2",
            "modules": ["baicells_enb"],
        }
    ],
    "vpn_gateways": [
        {
            "name": "vpn-townhall",
            "vendor": "cisco_asa",
            "address": "10.0.3.1:161",
            "auth": "vpn_v3",
            "modules": ["if_mib", "cisco_ra"],
            "licence_sessions": 250,
        }
    ],
}


@pytest.fixture
def sample() -> dict[str, list[dict[str, Any]]]:
    """A small town that touches every section and every kind of reference (a fresh copy per test)."""
    return copy.deepcopy(SAMPLE)


def sample_without_personal() -> dict[str, list[dict[str, Any]]]:
    doc = copy.deepcopy(SAMPLE)
    del doc["household_contacts"]
    return doc
