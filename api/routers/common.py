"""What every resource router shares: the page envelope, query-filter parameters, documented errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import AfterValidator, BaseModel, Field

from api.deps import Pagination
from api.security import as_utc
from api.services.common import Found

T = TypeVar("T")

#: No NUL characters: PostgreSQL refuses them in text, which would otherwise be a 500.
NO_NUL = r"^[^\x00]*$"

#: A timestamp always answered with its UTC offset (SQLite hands back naive UTC datetimes).
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


class Page(BaseModel, Generic[T]):
    """One page of a list: ``total`` counts every row that matches the filters, not just this page."""

    items: list[T]
    total: int = Field(ge=0)
    limit: int = Field(ge=1)
    offset: int = Field(ge=0)

    @classmethod
    def of(cls, found: Found[Any], paging: Pagination, convert: Callable[[Any], T] | None = None) -> Page[T]:
        """The page of a service's ``found`` window (items converted by ``convert`` if given)."""
        items = [convert(i) for i in found.items] if convert is not None else list(found.items)
        return cls(items=items, total=found.total, limit=paging.limit, offset=paging.offset)


class ErrorOut(BaseModel):
    """Every error answer: a message, or FastAPI's list of validation problems."""

    detail: Any


#: Documented answers of every protected route (added when the routers are mounted).
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No token, or an invalid, expired or revoked one."},
    403: {"model": ErrorOut, "description": "The caller's role may not call this route."},
}
#: Documented answer of routes that look one object up.
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "No such object (or not yours)."}}


def text_filter(description: str, *, alias: str | None = None) -> Any:
    """A ``?name=value`` equality filter on a short text column."""
    return Query(max_length=64, pattern=NO_NUL, description=description, alias=alias)

