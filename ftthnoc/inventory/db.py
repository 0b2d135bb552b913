"""Engines, sessions and schema migrations for the inventory database.

Alembic is configured from Python (``alembic_config``) with the migration scripts shipped inside this
package, so ``upgrade(url)`` works from any working directory and from an installed wheel; there is
no alembic.ini to find.

To write a new migration after changing ``models``::

    python -c "from alembic import command; from ftthnoc.inventory.db import alembic_config; \\
        command.revision(alembic_config('sqlite:///var/dev.db'), 'what changed', autogenerate=True)"

(after ``upgrade`` on that database), then read and tidy the generated file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ftthnoc.errors import InventoryError
from ftthnoc.inventory import listeners

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other backends and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def _sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    # SQLite ignores REFERENCES unless asked on every connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, *, foreign_keys: bool = True, **kwargs: Any) -> Engine:
    """An engine for ``url``; for a SQLite file, creates its directory and turns foreign keys on (off only
    for ``upgrade``, which checks them itself).

    Installs the session listeners (personal-data audit, household status history; ``listeners``).
    """
    listeners.install()
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None:
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite" and foreign_keys:
        event.listen(engine, "connect", _sqlite_foreign_keys)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (CLI and API read them afterwards).

    Installs the session listeners (personal-data audit, household status history; ``listeners``): a
    session from here audits and dates its changes whoever made the engine.
    """
    listeners.install()
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine, *, actor: str = "system") -> Iterator[Session]:
    """One transaction: commit if the block succeeds, roll back (nothing written) if it raises.

    ``actor`` is recorded in the audit entries of personal-data changes made in the block.
    """
    session = session_factory(engine)()
    session.info["actor"] = actor
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


#: Short name for read-mostly callers (``with db.session(engine) as s: lookup.onu_districts(s)``).
session = session_scope


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic Config pointing at the packaged migrations.

    Pass an open ``connection`` to migrate inside the caller's transaction; otherwise env.py builds an
    engine from ``url``.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolation would choke on a '%' in a password.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest migration shipped with this version of ftthnoc."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a migration
        raise InventoryError("no inventory migrations are packaged")
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for a database never migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (default: the newest), creating it if needed."""
    _migrate(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str, revision: str) -> None:
    """Take the database at ``url`` back to ``revision`` (tests, and an operator undoing an upgrade)."""
    _migrate(url, lambda config: command.downgrade(config, revision))


def _migrate(url: str, run: Callable[[Config], None]) -> None:
    # SQLite changes most schema only by rebuilding a table (batch mode), and a rebuild of a table others
    # reference fails, or cascades, with foreign keys on. SQLite's own procedure (its ALTER TABLE page,
    # "other kinds of table schema changes"): foreign keys off, change, then foreign_key_check.
    engine = make_engine(url, foreign_keys=False)
    try:
        with engine.begin() as conn:
            run(alembic_config(url, connection=conn))
            if conn.dialect.name == "sqlite":
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise InventoryError(f"the migration left {len(broken)} rows whose references are broken "
                                         f"(first: table {broken[0][0]}, row {broken[0][1]}); nothing was committed")
    finally:
        engine.dispose()


def require_current(engine: Engine) -> None:
    """Refuse to work on a database whose schema is not the one this code expects."""
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        state = "has no inventory schema" if current is None else f"is at migration {current}, not {head}"
        raise InventoryError(f"the database {state}; run `ftthnoc inventory migrate` first")
