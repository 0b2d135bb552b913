"""School scoping, once: a ``school`` user sees its own school's objects only, and another school's
objects answer as missing ones would (``NotFound``), so that probing codes or ids tells nothing."""

from __future__ import annotations

from api.security import Principal, Role
from api.services.common import NotFound

#: The school of a school user bound to none: matches no school, so the filter stays closed.
NO_SCHOOL = "\x00none"


def own_school(principal: Principal) -> str | None:
    """The school code a caller is limited to (a school user's own), None for every other role."""
    if principal.role is Role.SCHOOL:
        return principal.school or NO_SCHOOL
    return None


def ensure_visible(principal: Principal, school_code: str, what: str) -> None:
    """``NotFound(what)`` when ``principal`` may not see the objects of school ``school_code``."""
    mine = own_school(principal)
    if mine is not None and mine != school_code:
        raise NotFound(what)
