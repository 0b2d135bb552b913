"""``/api/health``: unauthenticated liveness and database check, for the load balancer and monitoring."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ftthnoc.inventory import db

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable", "outdated"]


@router.get("/health", summary="Is the API up and its database reachable and migrated?",
            responses={503: {"model": HealthOut, "description": "The database is unavailable or not migrated."}})
def health(request: Request, response: Response) -> HealthOut:  # fmt: skip
    engine = request.app.state.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = db.current_revision(engine)
    except SQLAlchemyError as exc:
        log.warning("health: database unavailable (%s)", type(exc).__name__)
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return HealthOut(status="degraded", database="unavailable")
    if current != request.app.state.head_revision:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return HealthOut(status="degraded", database="outdated")
    return HealthOut(status="ok", database="ok")
