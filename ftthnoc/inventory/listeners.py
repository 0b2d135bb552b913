"""The session listeners the inventory's promises depend on, and the one place that installs them.

* ``models.audit_personal_changes`` (before each flush): every created, changed or deleted household
  contact writes an ``AuditEntry`` naming the fields, never the values.
* ``kpi.models.record_status_changes`` (after each flush): every household status set or changed is
  dated in ``household_status_changes``, the subscription KPI's history.

Importing a module registers nothing. ``install()`` registers both on SQLAlchemy's ``Session`` class, so
on every session of the process whoever made it, once however often it is called; ``db.make_engine``
and ``db.session_factory`` call it, so an engine or a session made the project's way always has them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from ftthnoc.inventory.models import audit_personal_changes
from ftthnoc.kpi.models import record_status_changes

#: (session event, listener), in the order they are installed.
LISTENERS: tuple[tuple[str, Callable[..., Any]], ...] = (
    ("before_flush", audit_personal_changes),
    ("after_flush", record_status_changes),
)

_lock = threading.Lock()


def installed() -> bool:
    """Whether every listener is registered on the Session class."""
    return all(event.contains(Session, name, fn) for name, fn in LISTENERS)


def install() -> None:
    """Register every listener on the Session class, unless it already is (idempotent, thread-safe)."""
    if installed():
        return
    with _lock:
        for name, fn in LISTENERS:
            if not event.contains(Session, name, fn):
                event.listen(Session, name, fn)
