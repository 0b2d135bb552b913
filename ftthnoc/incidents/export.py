"""The quarterly incident CSV: what the operator's report to the Ministry (MIC) is written from.

The Telecommunications Business Act counts outages of 2 hours or more, or of 30,000 users or more, in the
quarterly report (``ftthnoc.incidents.reporting``: the rule, its exemptions and the due date), with start,
recovery, duration, users affected, cause and the equipment at fault; the CSV holds every incident that
*started* in the quarter, with the rule's verdict and its reason (``reportable``, ``reportable_reason``),
so that the report and its denominator come from one file. The verdict is the rule applied to the stored
record, so a row an older version flagged differently reads as the rule says now.
Quarters are calendar quarters in Japan time (2026Q3 = 1 July 00:00 JST up to 1 October 00:00 JST),
not the April-based fiscal year. Times are written both in JST (what the report uses) and in UTC
(what the logs use), as ISO 8601. Household codes are counted, never listed: the CSV goes by e-mail.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from ftthnoc.incidents.models import SCOPE_OF_KIND, Incident
from ftthnoc.incidents.reporting import Verdict, due_date, verdict
from ftthnoc.timezone import JST, as_utc

#: Japan has no daylight saving time: a fixed offset needs no tz database.
COLUMNS: tuple[str, ...] = (
    "id",
    "kind",
    "district",
    "olt",
    "pon_port",
    "started_at_jst",
    "started_at_utc",
    "ended_at_jst",
    "ended_at_utc",
    "duration_minutes",
    "affected_households",
    "cause",
    "cause_ja",
    "equipment",
    "reportable",
    "reportable_reason",
)
#: the report's 発生原因 in its language, by the incident's cause column
CAUSE_JA: dict[str, str] = {
    "los": "光信号断（幹線光ファイバーまたは分岐の断）",
    "dying_gasp": "利用者宅の停電（事業者設備の故障ではない）",
    "unreachable": "OLT 応答なし（OLT またはその上位回線の故障）",
    "board": "OLT のボード（ラインカード）故障",
    "pon_port": "OLT の PON ポート故障",
    "uplink": "OLT の上位回線（アップリンク）断",
    "rogue_onu": "異常発光 ONU（不正 ONU）による PON 全体の通信断",
    "service": "町のオンラインサービス（電子申請・ホームページ・DNS）の停止",
}
_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*Q([1-4])\s*$", re.IGNORECASE)


def quarter_bounds(quarter: str) -> tuple[datetime, datetime]:
    """``"2026Q3"`` → (start, end) in UTC of that JST calendar quarter, end exclusive. Raises ValueError."""
    m = _QUARTER.match(quarter)
    if not m:
        raise ValueError(f"{quarter!r} is not a quarter (want e.g. 2026Q3)")
    year, q = int(m.group(1)), int(m.group(2))
    start = datetime(year, 3 * q - 2, 1, tzinfo=JST)
    end = datetime(year + 1, 1, 1, tzinfo=JST) if q == 4 else datetime(year, 3 * q + 1, 1, tzinfo=JST)
    return start.astimezone(UTC), end.astimezone(UTC)


def quarter_of(at: datetime) -> str:
    """The JST calendar quarter a UTC time falls in, e.g. ``2026Q3``."""
    local = as_utc(at).astimezone(JST)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def quarter_incidents(session: Session, quarter: str) -> list[Incident]:
    """Incidents that started in the quarter, oldest first (open ones included, without an end)."""
    start, end = quarter_bounds(quarter)
    stmt = (
        select(Incident)
        .where(Incident.started_at >= start, Incident.started_at < end)
        .order_by(Incident.started_at, Incident.id)
    )
    return list(session.scalars(stmt))


def quarter_due(quarter: str) -> date:
    """The last day to file ``quarter``'s report to MIC (2 months after it, ``reporting.due_date``)."""
    return due_date(quarter_bounds(quarter)[1].astimezone(JST))


def equipment(inc: Incident) -> str:
    """The equipment at fault as the report names it: the OLT and PON port (a feeder's fibre or splitter
    between them and the homes, or the port itself), the OLT, its board or uplink, the town service, or none
    of the operator's (a power cut at the homes)."""
    if inc.cause == "dying_gasp":
        return ""
    if inc.cause == "board":  # the pon_port column holds the board (frame/slot)
        return " ".join(part for part in (f"OLT {inc.olt}" if inc.olt else "",
                                          f"board {inc.pon_port}" if inc.pon_port else "") if part)  # fmt: skip
    if inc.cause == "uplink":
        return f"OLT {inc.olt} uplink" if inc.olt else "uplink"
    if inc.cause == "service":  # the olt column holds the service's probe target
        return f"service {inc.olt}" if inc.olt else "service"
    return " ".join(part for part in (f"OLT {inc.olt}" if inc.olt else "",
                                      f"PON {inc.pon_port}" if inc.pon_port else "",
                                      f"splitter {inc.splitter}" if inc.splitter else "",
                                      f"(cabinet {inc.cabinet})" if inc.cabinet else "") if part)  # fmt: skip


def incident_verdict(inc: Incident, now: datetime | None = None) -> Verdict:
    """The ministry's rule on a stored incident: its duration, or for an open one its age at ``now``
    (the export's time) so that an outage still going after 2 hours reads as reportable."""
    if inc.duration_seconds is not None:
        seconds = float(inc.duration_seconds)
    else:
        seconds = ((now or datetime.now(UTC)) - as_utc(inc.started_at)).total_seconds()
    scope = next((s for k, s in SCOPE_OF_KIND.items() if k == inc.kind), "pon_port")
    return verdict(cause=inc.cause, scope=scope, duration_seconds=seconds, users_affected=inc.affected_count)


def incident_row(inc: Incident, now: datetime | None = None) -> dict[str, str]:
    """One CSV row; duration in whole minutes (floor, so that 119 min 59 s never reads as 120)."""
    started = as_utc(inc.started_at)
    ended = as_utc(inc.ended_at) if inc.ended_at is not None else None
    judged = incident_verdict(inc, now)
    return {
        "id": str(inc.id),
        "kind": inc.kind,
        "district": inc.district,
        "olt": inc.olt or "",
        "pon_port": inc.pon_port or "",
        "started_at_jst": started.astimezone(JST).isoformat(),
        "started_at_utc": started.isoformat(),
        "ended_at_jst": ended.astimezone(JST).isoformat() if ended else "",
        "ended_at_utc": ended.isoformat() if ended else "",
        "duration_minutes": "" if inc.duration_seconds is None else str(inc.duration_seconds // 60),
        "affected_households": str(inc.affected_count),
        "cause": inc.cause,
        "cause_ja": CAUSE_JA.get(inc.cause, inc.cause),
        "equipment": equipment(inc),
        "reportable": "true" if judged.reportable else "false",
        "reportable_reason": judged.reason,
    }


def write_csv(incidents: Iterable[Incident], out: TextIO, columns: Sequence[str] = COLUMNS,
              now: datetime | None = None) -> int:  # fmt: skip
    """Write the header and one row per incident; returns the number of rows."""
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    n = 0
    for inc in incidents:
        writer.writerow(incident_row(inc, now))
        n += 1
    return n


def export_quarter(session: Session, quarter: str, out: TextIO, now: datetime | None = None) -> int:
    """The quarter's CSV to ``out``; returns the number of incidents written. ``now`` ages open incidents."""
    return write_csv(quarter_incidents(session, quarter), out, now=now)
