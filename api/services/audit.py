"""The audit log: the one write of a personal-data read, and the log as each role may read it.

Support sees only household entries (personal-data reads and changes, provisioning runs on a line),
which is what answering a subscriber needs; admin and operator see everything.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.security import Principal, Role
from api.services.common import Found, Window, page_of
from ftthnoc.inventory.models import AuditEntry

#: The entity of the entries ``record_personal_read`` writes.
PERSONAL_READ_ENTITY = "household_contacts"
#: Entities of household audit entries: contacts (models, io, personal reads) and ``household:CODE`` runs.
HOUSEHOLD_ENTITIES: tuple[str, ...] = ("household_contact", PERSONAL_READ_ENTITY)
HOUSEHOLD_ENTITY_PREFIX = "household:"


def record_personal_read(session: Session, principal: Principal, codes: Sequence[str], fields: Sequence[str],
                         *, via: str) -> None:  # fmt: skip
    """One entry for one answer that disclosed personal ``fields`` of the households ``codes``: which
    households and which fields, never the values; ``via`` "api" or "web". Committed at once."""
    detail = {"rows": len(codes), "fields": list(fields), "households": list(codes), "via": via}
    session.add(AuditEntry(actor=principal.name, action="read", entity=PERSONAL_READ_ENTITY, detail=detail,
                           outcome="ok"))  # fmt: skip
    session.commit()


def list_entries(session: Session, principal: Principal, window: Window, *, entity: str | None = None,
                 actor: str | None = None, action: str | None = None) -> Found[AuditEntry]:  # fmt: skip
    """The log newest first, filtered; support: household entries only."""
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if principal.role is Role.SUPPORT:
        stmt = stmt.where(or_(AuditEntry.entity.in_(HOUSEHOLD_ENTITIES),
                              AuditEntry.entity.startswith(HOUSEHOLD_ENTITY_PREFIX, autoescape=True)))  # fmt: skip
    if entity is not None:
        stmt = stmt.where(AuditEntry.entity == entity)
    if actor is not None:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    rows, total = page_of(session, stmt, window)
    return Found([e for (e,) in rows], total)
