"""Migrations: an empty database reaches head, the migrated schema is exactly the models' schema."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from ftthnoc.config import PonClass
from ftthnoc.errors import InventoryError
from ftthnoc.inventory import db
from ftthnoc.inventory.models import PON_CLASSES, Base, District

from .conftest import table_counts


def test_upgrade_on_empty_database_creates_every_table(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        assert db.current_revision(engine) is None
        assert not set(inspect(engine).get_table_names()) & set(Base.metadata.tables)
        db.upgrade(database_url)
        assert db.current_revision(engine) == db.head_revision()
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []
    finally:
        engine.dispose()


def test_upgrade_twice_keeps_data(engine: Engine, database_url: str) -> None:
    with db.session_scope(engine) as session:
        session.add(District(code="chiyoda", name="千代田", households=10))
    db.upgrade(database_url)
    assert db.current_revision(engine) == db.head_revision()
    assert table_counts(engine)["districts"] == 1


def test_downgrade_to_base_and_back(engine: Engine, database_url: str) -> None:
    db.downgrade(database_url, "base")
    assert not set(inspect(engine).get_table_names()) & set(Base.metadata.tables)
    db.upgrade(database_url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_upgrade_without_connection_uses_the_url(database_url: str) -> None:
    """The plain Alembic path (env.py builds its own engine) works too, as `alembic upgrade` would."""
    command.upgrade(db.alembic_config(database_url), "head")
    engine = db.make_engine(database_url)
    try:
        assert db.current_revision(engine) == db.head_revision()
    finally:
        engine.dispose()


def test_upgrade_works_from_any_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No alembic.ini in the cwd is needed; a relative SQLite path gets its directory created."""
    monkeypatch.chdir(tmp_path)
    db.upgrade("sqlite:///var/nested/ftthnoc.db")
    assert (tmp_path / "var" / "nested" / "ftthnoc.db").is_file()
    engine = db.make_engine("sqlite:///var/nested/ftthnoc.db")
    try:
        assert db.current_revision(engine) == db.head_revision()
    finally:
        engine.dispose()


def test_require_current_refuses_an_unmigrated_database(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        with pytest.raises(InventoryError, match="inventory migrate"):
            db.require_current(engine)
        db.upgrade(database_url)
        db.require_current(engine)
    finally:
        engine.dispose()


def test_sqlite_enforces_foreign_keys(tmp_path: Path) -> None:
    from sqlalchemy.exc import IntegrityError

    from ftthnoc.inventory.models import School

    url = f"sqlite:///{tmp_path / 'fk.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with pytest.raises(IntegrityError), db.session_scope(engine) as session:
            session.add(School(code="x", name="x", district_id=999, pupils=1))
    finally:
        engine.dispose()


def test_pon_classes_agree_with_the_poller_configuration() -> None:
    assert set(PON_CLASSES) == set(get_args(PonClass))


def test_0003_adds_probe_addresses_to_a_populated_inventory_and_removes_them(database_url: str) -> None:
    """A town already in the database keeps every row (the tablets under their schools most of all)."""
    from sqlalchemy import text

    def counts() -> dict[str, int]:
        # only the tables that exist at 0002: later revisions register more on Base.metadata
        with engine.connect() as conn:
            return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}

    tables = ("districts", "olts", "pon_ports", "onus", "schools", "tablets")
    db.upgrade(database_url, "0002")
    engine = db.make_engine(database_url)
    try:
        with engine.begin() as conn:
            for statement in (
                "INSERT INTO districts (id, code, name, households) VALUES (1, 'chiyoda', '千代田', 10)",
                "INSERT INTO olts (id, name, district_id, vendor, model, address, pon_class, auth, modules) "
                "VALUES (1, 'olt-x', 1, 'huawei', 'MA5800', '10.0.0.1:161', 'B+', 'a', '[]')",
                "INSERT INTO pon_ports (id, olt_id, port) VALUES (1, 1, '0/1/0')",
                "INSERT INTO onus (id, serial, pon_port_id, onu_id) VALUES (1, 'HWTC-00000001', 1, 0)",
                "INSERT INTO schools (id, code, name, district_id, pupils) VALUES (1, 'es', '小学校', 1, 9)",
                "INSERT INTO tablets (school_id, asset_no, serial, mac, os) "
                "VALUES (1, 'T-1', 'S1', '00:1a:2b:3c:4d:01', 'iPadOS')",
            ):
                conn.execute(text(statement))
        before = counts()
        assert set(before.values()) == {1}

        db.upgrade(database_url)
        assert db.current_revision(engine) == db.head_revision()
        assert counts() == before
        with engine.connect() as conn:
            assert conn.execute(text("SELECT mgmt_address FROM onus")).scalar_one() is None
            assert conn.execute(text("SELECT address FROM schools")).scalar_one() is None
        with engine.begin() as conn:
            conn.execute(text("UPDATE onus SET mgmt_address = '192.0.2.10'"))
            conn.execute(text("UPDATE schools SET address = '192.0.2.20'"))

        db.downgrade(database_url, "0002")
        assert counts() == before
        columns = {t: {c["name"] for c in inspect(engine).get_columns(t)} for t in ("onus", "schools")}
        assert "mgmt_address" not in columns["onus"] and "address" not in columns["schools"]
    finally:
        engine.dispose()
