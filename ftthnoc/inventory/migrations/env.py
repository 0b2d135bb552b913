"""Alembic environment for the inventory, driven from ``ftthnoc.inventory.db`` (no alembic.ini needed).

``db.upgrade`` hands over an open connection in ``config.attributes["connection"]``; the plain
``alembic`` command line works too when ``sqlalchemy.url`` is set in the Config.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from ftthnoc.inventory.db import make_engine
from ftthnoc.inventory.models import Base

config = context.config
target_metadata = Base.metadata


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave alone tables that other parts of ftthnoc keep in the same database."""
    return not (type_ == "table" and reflected and compare_to is None)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url or pass a connection (see ftthnoc.inventory.db)")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _configure(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
