"""The residents' view of incidents: which districts have a service outage now, since when, and when recent
ones were restored. Public: no login, so nothing in it may point at a home.

What it gives, and what it never does:

- the **district** only (the four former towns), never an OLT, a PON port, a household code, a name or an
  address: a PON port serves a few dozen homes along one road, which is already too close to a home;
- since when (the incident's start: the devices' own time where they give it) and when it was restored,
  to the minute;
- the number of affected households **only as a range**, and below ``MIN_SHOWN`` (10) only as "fewer than
  10": a count of 1, 2 or 3 in a small hamlet says whose line it is. The ranges are ``RANGES``'s;
- what kind of outage in plain words: a fibre fault, a power cut (the homes' own power: nothing the town's
  network can fix), or the equipment not answering (under investigation).

Several open incidents in one district are one line: the earliest start, and the distinct households of
them all (an OLT that does not answer and a feeder cut under it are the same homes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ftthnoc.incidents.models import Incident, IncidentHousehold
from ftthnoc.inventory.models import District, Olt
from ftthnoc.pollers import polling

#: Below this many households no count is shown at all, only "fewer than 10".
MIN_SHOWN = 10
#: The ranges counts are shown in: (low, high) inclusive, high None for "or more".
RANGES: tuple[tuple[int, int | None], ...] = ((10, 49), (50, 99), (100, 499), (500, 999), (1000, None))
#: How far back restored outages are listed.
RECENT = timedelta(days=7)
#: What a resident reads for an incident's kind (the i18n keys ``outage_kind_*``).
PUBLIC_KIND = {"feeder_cut": "fibre", "line_fault": "fibre", "splitter_cut": "fibre", "power_outage": "power",
               "olt_unreachable": "equipment", "board_down": "equipment", "pon_port_down": "equipment",
               "uplink_down": "equipment", "rogue_onu": "equipment", "service_down": "service"}


@dataclass(frozen=True, slots=True)
class HouseholdRange:
    """At least ``low`` households and at most ``high`` (None: no upper bound); ``low`` 0 means "fewer than
    ``MIN_SHOWN``" (at least one)."""

    low: int
    high: int | None


def households_range(count: int) -> HouseholdRange:
    if count < MIN_SHOWN:
        return HouseholdRange(0, MIN_SHOWN - 1)
    for low, high in RANGES:
        if high is None or count <= high:
            return HouseholdRange(low, high)
    raise AssertionError("RANGES ends without an upper bound")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class DistrictOutage:
    """A district with a service outage now."""

    district: str
    name: str
    since: datetime
    kinds: tuple[str, ...]
    households: HouseholdRange


@dataclass(frozen=True, slots=True)
class RestoredOutage:
    """An outage restored within ``RECENT``."""

    incident_id: int
    district: str
    name: str
    kind: str
    started_at: datetime
    restored_at: datetime


@dataclass(frozen=True, slots=True)
class OpenIncident:
    """One open incident as the feed tells it: its district, kind, start and households as a range."""

    incident_id: int
    district: str
    name: str
    kind: str
    started_at: datetime
    households: HouseholdRange


@dataclass(frozen=True, slots=True)
class OutageStatus:
    now: datetime
    open: Sequence[DistrictOutage]
    restored: Sequence[RestoredOutage]
    #: the open incidents behind ``open``, for the feed's entries
    open_incidents: Sequence[OpenIncident]
    #: districts (code, name) with an OLT nobody polls now (its shard's poller is silent): their state is
    #: unknown, so the page must not say "no outage" for them
    unknown: Sequence[tuple[str, str]] = ()


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def status(session: Session, now: datetime) -> OutageStatus:
    """Open outages by district (the longest first) and those restored in the last ``RECENT``, newest first."""
    names = {code: name for code, name in session.execute(select(District.code, District.name))}
    open_rows = list(session.scalars(select(Incident).where(Incident.status == "open")
                                     .order_by(Incident.started_at, Incident.id)))  # fmt: skip
    by_district: dict[str, list[Incident]] = {}
    for inc in open_rows:
        by_district.setdefault(inc.district, []).append(inc)
    open_: list[DistrictOutage] = []
    for district, incs in by_district.items():
        ids = [i.id for i in incs]
        homes = set(session.scalars(select(IncidentHousehold.household).distinct()
                                    .where(IncidentHousehold.incident_id.in_(ids),
                                           IncidentHousehold.household.is_not(None))))  # fmt: skip
        # an incident may count households it has no member rows for (an OLT whose ONUs nobody knew)
        count = max([len(homes), *(i.affected_count for i in incs)])
        kinds = tuple(dict.fromkeys(PUBLIC_KIND.get(i.kind, "equipment") for i in incs))
        since = min(_utc(i.started_at) for i in incs)
        open_.append(DistrictOutage(district, names.get(district, district), since, kinds, households_range(count)))
    open_.sort(key=lambda o: (o.since, o.district))
    cutoff = now - RECENT
    closed = session.scalars(select(Incident).where(Incident.status == "closed", Incident.ended_at >= cutoff)
                             .order_by(Incident.ended_at.desc(), Incident.id.desc()))  # fmt: skip
    restored = [
        RestoredOutage(i.id, i.district, names.get(i.district, i.district), PUBLIC_KIND.get(i.kind, "equipment"),
                       _utc(i.started_at), _utc(i.ended_at))
        for i in closed
        if i.ended_at is not None
    ]
    open_incidents = [
        OpenIncident(i.id, i.district, names.get(i.district, i.district), PUBLIC_KIND.get(i.kind, "equipment"),
                     _utc(i.started_at), households_range(i.affected_count))
        for i in open_rows
    ]
    silent = polling(session, now).silent
    unknown = sorted(set(session.execute(select(District.code, District.name).join(Olt, Olt.district_id == District.id)
                                         .where(Olt.name.in_(silent))))) if silent else []  # fmt: skip
    return OutageStatus(now, open_, restored, open_incidents, [(c, n) for c, n in unknown])
