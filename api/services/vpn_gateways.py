"""Telework VPN gateways and their licensed session ceiling."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services.common import Found, Window, page_of
from ftthnoc.inventory.models import VpnGateway


def search(session: Session, window: Window) -> Found[VpnGateway]:
    rows, total = page_of(session, select(VpnGateway).order_by(VpnGateway.name), window)
    return Found([g for (g,) in rows], total)
