"""A district's dying gasps counted across poller shards (``serve --shard I/N``), through the shared database.

A power cut does not follow the shard split: the homes of one district hang off OLTs that different pollers
poll, so a cut of six homes can reach one shard as three gasps and another as three, and neither alone sees
the five the rule asks for. Each shard keeps the ONUs it sees down with a dying gasp in ``shard_gasps``
(identity, district and time; written only when its set changes, its OLTs' rows cleared when it starts) and
counts a district's burst over every shard's rows. PostgreSQL is the one thing every shard shares already;
no other service is needed. One process (no shards) never uses this.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ftthnoc.incidents.households import OnuKey
from ftthnoc.incidents.models import Incident, ShardGasp
from ftthnoc.timezone import as_utc

log = logging.getLogger(__name__)

#: an ONU's gasp as a shard records it: (district, since when it is down)
Gasp = tuple[str, datetime]


class SharedGasps:
    """This shard's rows of ``shard_gasps`` and every shard's rows of a district. Database errors are the
    caller's to catch (``SQLAlchemyError``): what failed to be written is written with the next ``sync``."""

    def __init__(self, sessions: Callable[[], Session], owned: frozenset[str], shard: str) -> None:
        self._sessions = sessions
        self.owned = owned
        self.shard = shard
        self._written: dict[OnuKey, Gasp] = {}
        self._reset = False

    def _clear_own(self, session: Session) -> None:
        """A shard starting forgets what its OLTs' rows said (written by itself before, or by the shard that
        held these OLTs before a re-shard): it writes them afresh from its polls."""
        if self.owned:
            session.execute(delete(ShardGasp).where(ShardGasp.olt.in_(sorted(self.owned))))

    def sync(self, gasps: Mapping[OnuKey, Gasp]) -> bool:
        """Make this shard's rows ``gasps`` (only the changes are written); False if the write failed."""
        mine = {k: v for k, v in gasps.items() if k[0] in self.owned}
        gone = [k for k in self._written if k not in mine]
        changed = {k: v for k, v in mine.items() if self._written.get(k) != v}
        if self._reset and not gone and not changed:
            return True
        try:
            with self._sessions() as session:
                if not self._reset:
                    self._clear_own(session)
                    changed = dict(mine)
                    gone = []
                if gone:
                    session.execute(delete(ShardGasp).where(
                        tuple_(ShardGasp.olt, ShardGasp.pon_port, ShardGasp.onu_id).in_(gone)))
                for (olt, port, onu), (district, at) in sorted(changed.items()):
                    session.merge(ShardGasp(olt=olt, pon_port=port, onu_id=onu, district=district, down_at=at,
                                            shard=self.shard))
                session.commit()
        except SQLAlchemyError as exc:
            log.warning("shard %s: dying gasps not shared (%s); written with the next change", self.shard,
                        type(exc).__name__)
            return False
        self._reset = True
        self._written = dict(mine)
        return True

    def district(self, district: str) -> tuple[dict[OnuKey, datetime], datetime | None]:
        """Every shard's gasps in ``district`` (ONU → since when), and the start of the district's open
        power-cut row, if one is open (another shard's, or this one's from before)."""
        with self._sessions() as session:
            rows = session.execute(select(ShardGasp.olt, ShardGasp.pon_port, ShardGasp.onu_id, ShardGasp.down_at)
                                   .where(ShardGasp.district == district)).all()
            started = session.scalar(select(Incident.started_at).where(
                Incident.kind == "power_outage", Incident.status == "open", Incident.district == district)
                .order_by(Incident.id).limit(1))
        gasps = {(olt, port, onu): as_utc(at) for olt, port, onu, at in rows}
        return gasps, as_utc(started) if started is not None else None
