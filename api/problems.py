"""Errors as HTTP problems, at the edge only: the services' exceptions (``api.services.common``) mapped to
status codes, answered as ``{"detail": ...}`` JSON under ``/api`` and as error pages elsewhere."""

from __future__ import annotations

from fastapi import status

from api.services.common import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ServiceError,
    Throttled,
    Unauthenticated,
    Unavailable,
)

STATUS: dict[type[ServiceError], int] = {
    NotFound: status.HTTP_404_NOT_FOUND,
    Forbidden: status.HTTP_403_FORBIDDEN,
    Invalid: status.HTTP_422_UNPROCESSABLE_CONTENT,
    Conflict: status.HTTP_409_CONFLICT,
    Unavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
    Unauthenticated: status.HTTP_401_UNAUTHORIZED,
    Throttled: status.HTTP_429_TOO_MANY_REQUESTS,
}


def status_of(exc: ServiceError) -> int:
    """The HTTP status of a service's refusal (400 for one this table does not name)."""
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return status.HTTP_400_BAD_REQUEST
