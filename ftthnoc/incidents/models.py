"""Incident tables, on the inventory's ``Base`` so that one Alembic history (``0002_incidents``) covers them.

Incidents name their OLT, PON port, district and households by natural key (strings), not by foreign
key: an incident is a historical record for the quarterly report to the Ministry and must survive the
inventory being edited (an OLT renamed, a household cancelled). ``IncidentHousehold`` holds household
*codes* only; names, addresses and phones stay in ``HouseholdContact`` and are never copied here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ftthnoc.inventory.models import Base

IncidentKind = Literal[
    "feeder_cut", "power_outage", "olt_unreachable", "line_fault", "splitter_cut",
    "board_down", "pon_port_down", "uplink_down", "rogue_onu", "service_down",
]  # fmt: skip
IncidentStatus = Literal["open", "closed"]
INCIDENT_KINDS: tuple[IncidentKind, ...] = (
    "feeder_cut", "power_outage", "olt_unreachable", "line_fault", "splitter_cut",
    "board_down", "pon_port_down", "uplink_down", "rogue_onu", "service_down",
)  # fmt: skip
#: What an incident's cause column holds: the fault class of its ONUs (docs/facts.md), or what the OLT said
#: of itself (no answer to the poll).
CAUSE_OF_KIND: dict[IncidentKind, str] = {
    "feeder_cut": "los", "power_outage": "dying_gasp", "olt_unreachable": "unreachable", "line_fault": "los",
    "splitter_cut": "los",
    "board_down": "board", "pon_port_down": "pon_port", "uplink_down": "uplink", "rogue_onu": "rogue_onu",
    "service_down": "service",
}  # fmt: skip
#: What an incident covers, the ``scope`` label of ``ftthnoc_incident_open``: one PON port, one district, one OLT,
#: one board (its ``pon_port`` column holds the board, frame/slot: ``0/1``), one town service (its ``olt``
#: column holds the service's probe target name: the equipment at fault).
SCOPE_OF_KIND: dict[IncidentKind, str] = {
    "feeder_cut": "pon_port", "power_outage": "district", "olt_unreachable": "olt", "line_fault": "pon_port",
    "splitter_cut": "splitter",
    "board_down": "board", "pon_port_down": "pon_port", "uplink_down": "olt", "rogue_onu": "pon_port",
    "service_down": "service",
}  # fmt: skip
#: The district of a town service's incident: the town's services serve every district.
TOWN_DISTRICT = "town"
KIND_CHECK = "kind IN (" + ", ".join(f"'{k}'" for k in INCIDENT_KINDS) + ")"


class Incident(Base):
    """One correlated outage: a cut feeder on a PON port, a power cut in a district, an OLT that does not
    answer its poll, a few homes of one port dark together (``line_fault``: below a feeder cut's thresholds,
    still reportable after 2 hours).

    ``affected_count`` is the number of distinct households among the affected ONUs (what the report
    counts); ``onu_count`` counts every affected ONU, with or without a household. ``duration_seconds``
    and ``ended_at`` are set when the incident closes; ``reportable`` once it has lasted 2 hours.
    """

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint(KIND_CHECK, name="kind"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        CheckConstraint("affected_count >= 0", name="affected_count_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8), index=True)
    district: Mapped[str] = mapped_column(String(32), index=True)
    olt: Mapped[str | None] = mapped_column(String(64))
    pon_port: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    affected_count: Mapped[int] = mapped_column(Integer)
    onu_count: Mapped[int] = mapped_column(Integer)
    reportable: Mapped[bool] = mapped_column(Boolean)
    cause: Mapped[str] = mapped_column(String(16))
    #: the splitter whose cut this is (``splitter_cut``) and its cabinet, as the inventory named them then
    splitter: Mapped[str | None] = mapped_column(String(64))
    cabinet: Mapped[str | None] = mapped_column(String(64))

    households: Mapped[list[IncidentHousehold]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentHousehold.id"
    )


class IncidentHousehold(Base):
    """One affected ONU of an incident and the code of the household it serves (None: no subscriber).

    ``returned_at`` is when the ONU came back (None while it is still down); the engine rebuilds its
    state from these rows after a restart.
    """

    __tablename__ = "incident_households"
    __table_args__ = (UniqueConstraint("incident_id", "olt", "pon_port", "onu_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    olt: Mapped[str] = mapped_column(String(64))
    pon_port: Mapped[str] = mapped_column(String(16))
    onu_id: Mapped[str] = mapped_column(String(16))
    household: Mapped[str | None] = mapped_column(String(32), index=True)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    incident: Mapped[Incident] = relationship(back_populates="households")


class ShardGasp(Base):
    """One ONU of a ``serve --shard`` poller that is down with a dying gasp (its home lost power), as that
    shard last saw it: so that the power-cut rule counts a district's gasps across shards (a cut whose
    homes hang off OLTs of two pollers). Identity and time only, never the household: the district is what
    the rule groups by. The shard that polls the ONU's OLT writes and deletes its rows (at start, every row
    of its OLTs); with one process (no shards) the table stays empty."""

    __tablename__ = "shard_gasps"

    olt: Mapped[str] = mapped_column(String(64), primary_key=True)
    pon_port: Mapped[str] = mapped_column(String(16), primary_key=True)
    onu_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    district: Mapped[str] = mapped_column(String(32), index=True)
    #: since when it is down: the OLT's own time, else the poll that first showed it down
    down_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: the shard that wrote it ("I/N"), for the operator reading the table
    shard: Mapped[str] = mapped_column(String(16))
