"""The ministry's rule, in one place: which outages go into the quarterly report to MIC, and when it is due.

電気通信事業報告規則 第7条の3 (the Telecommunications Business Act's reporting ordinance; docs/facts.md): an
outage of the operator's service that lasted **2 hours or more, or affected 30,000 users or more**, goes
into the operator's quarterly report (四半期報告), filed **within 2 months after the quarter has passed**.
Each record gives start, recovery, duration, users affected, cause and the equipment at fault.

- The two thresholds are alternatives: a fault of 2 homes that lasted 5 hours is reportable (the 2-hour rule
  does not depend on the number of users), and so is a 10-minute fault of 30,000 users.
- A home's own power cut (dying gasp: the ONU lost its mains) is not a failure of the operator's equipment,
  however many homes a district's power cut darkens at once: never reportable.
- A fault confined to one customer's premises is exempt. The monitor cannot see where a single line broke
  (the ONU, the indoor fibre or the drop): a fault of one household's line is taken as its premises' own
  (the help desk's ticket); every incident the engine opens spans a PON port, a district or an OLT.
- The start is the devices' own last-down time where they give it (the engine dates incidents so:
  ``ftthnoc.incidents.engine``), so the duration the rule reads is the outage's, not the monitor's.

Users are counted as households: the town's FTTH has one contract per household.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

#: 2 hours: 第7条の3's duration threshold
REPORTABLE_SECONDS = 7200.0
#: 30,000 users: the same article's size threshold (also where a 重大な事故 starts)
REPORTABLE_USERS = 30_000
#: months after a quarter's end within which its report is due
DUE_MONTHS = 2

Scope = Literal["pon_port", "district", "olt", "premises"]
Reason = Literal["duration", "users", "power_cut_at_homes", "premises", "not_telecommunications", "below_thresholds"]
#: what an incident's cause column holds when the homes lost their own power (``CAUSE_OF_KIND``)
HOME_POWER_CAUSE = "dying_gasp"
#: the cause column of a town online service's outage (``service_down``): the e-application portal, the
#: website or the town's DNS are the town's services, not the telecommunications service the article counts
SERVICE_CAUSE = "service"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether an outage is reportable, and why (the export's ``reportable_reason``)."""

    reportable: bool
    reason: Reason


def verdict(
    *,
    cause: str,
    scope: str,
    duration_seconds: float,
    users_affected: int,
    min_seconds: float = REPORTABLE_SECONDS,
    min_users: int = REPORTABLE_USERS,
) -> Verdict:
    """The rule. ``duration_seconds`` is from the start to the recovery, or to now while it lasts;
    ``scope`` is ``premises`` for a fault of one customer's line, else what the incident spans."""
    if cause == HOME_POWER_CAUSE:
        return Verdict(False, "power_cut_at_homes")
    if cause == SERVICE_CAUSE:
        return Verdict(False, "not_telecommunications")
    if scope == "premises":
        return Verdict(False, "premises")
    if duration_seconds >= min_seconds:
        return Verdict(True, "duration")
    if users_affected >= min_users:
        return Verdict(True, "users")
    return Verdict(False, "below_thresholds")


def due_date(quarter_end: datetime | date) -> date:
    """The last day to file a quarter's report: 2 months after the quarter has passed.

    ``quarter_end`` is the first moment (or day) after the quarter, in JST: 1 October for July–September.
    The period runs from that day; by the civil code's calendar counting (民法 第143条) it ends the day before
    the same day two months later: 1 October → 30 November, 1 January → the end of February."""
    day = quarter_end.date() if isinstance(quarter_end, datetime) else quarter_end
    month = day.month - 1 + DUE_MONTHS
    year, month = day.year + month // 12, month % 12 + 1
    same_day = min(day.day, calendar.monthrange(year, month)[1])
    return date.fromordinal(date(year, month, same_day).toordinal() - 1)
