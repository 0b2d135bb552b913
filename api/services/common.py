"""What the services share: their errors (HTTP-free; the edge maps them), a page window, paged queries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


class ServiceError(Exception):
    """A request the service cannot carry out; ``detail`` is safe to show to the caller."""

    def __init__(self, detail: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})


class NotFound(ServiceError):
    """No such object, or one the caller may not know of (another school's): the same answer."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")


class Forbidden(ServiceError):
    """The caller's role may not do this inside a route it may call (search by personal fields)."""


class Invalid(ServiceError):
    """The request is well-formed but its content is refused (a serial that is no serial)."""


class Conflict(ServiceError):
    """The object is busy with something else (a household's unfinished job)."""


class Unavailable(ServiceError):
    """The service cannot do it now (no provisioning configured, too many jobs waiting)."""


class Unauthenticated(ServiceError):
    """Wrong user name or password."""


class Throttled(ServiceError):
    """Too many failed attempts; ``retry_after`` seconds to wait."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


@dataclass(frozen=True)
class Window:
    """Which rows of a list: ``limit`` from ``offset`` on."""

    limit: int
    offset: int = 0


@dataclass(frozen=True)
class Found(Generic[T]):
    """One window of a list; ``total`` counts every row that matches, not just this window's."""

    items: list[T] = field(default_factory=list)
    total: int = 0


def page_of(session: Session, stmt: Select[*tuple[Any, ...]], window: Window) -> tuple[list[Any], int]:
    """The rows of ``stmt`` (already ordered) in ``window``, and the number of rows without it."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(session.execute(stmt.limit(window.limit).offset(window.offset)))
    return rows, total
