"""What the subcommands share: one-line failures, the database URL and an engine that is always disposed."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from ftthnoc.errors import InventoryError

if TYPE_CHECKING:  # SQLAlchemy and Alembic cost 0.4 s to import: only commands that open a database pay it
    from sqlalchemy import Engine

    from ftthnoc.settings import Settings

database_option = click.option(
    "--database-url",
    default=None,
    metavar="URL",
    help="SQLAlchemy URL (default: FTTHNOC_DATABASE_URL or sqlite:///var/ftthnoc.db).",
)


def fail(message: str, code: int = 1) -> NoReturn:
    """One line, ``ftthnoc: ...``, on stderr and a non-zero exit: the form of every user-caused failure."""
    click.echo(f"ftthnoc: {message}", err=True)
    raise click.exceptions.Exit(code)


def settings() -> Settings:
    """The process's one settings object, read from the environment on first use."""
    global _SETTINGS
    if _SETTINGS is None:
        from ftthnoc.settings import load_settings

        _SETTINGS = load_settings()
    return _SETTINGS


_SETTINGS: Settings | None = None
F = TypeVar("F", bound=Callable[..., Any])


def pass_settings(command: F) -> F:
    """Hand the settings to a command as its first argument (as ``click.pass_obj`` would)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return command(settings(), *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def resolve_url(option: str | None) -> str:
    return option or settings().database_url


@contextmanager
def engine_for(url: str, *, current: bool = True) -> Iterator[Engine]:
    """An engine (on a migrated database unless ``current=False``), always disposed; database errors
    become one line and exit 1."""
    from sqlalchemy.exc import SQLAlchemyError

    from ftthnoc.inventory import db

    try:
        engine = db.make_engine(url)
    except (SQLAlchemyError, ValueError) as exc:
        fail(f"bad database URL: {exc.__class__.__name__}")
    try:
        if current:
            db.require_current(engine)
        yield engine
    except InventoryError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(f"database error: {reason}")
    finally:
        engine.dispose()
