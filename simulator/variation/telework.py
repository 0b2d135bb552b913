"""Telework VPN sessions on a working-day curve: an snmpsim variation module and a plain Python module.

The town office's staff connect to the telework VPN on working days (JST, by the telework KPI's own
calendar, ``ftthnoc.telework.calendar``): almost nobody at night, on weekends, national holidays and the
year-end closure (年末年始: 29 December – 3 January); staff arrive from 07:30, most are on by 09:15, the
12:00–13:00 lunch break dips, the day ends at 17:15 and the last leave by 21:00. ``sessions()`` is a
pure function of the time, so a test computes exactly what the agent answers; ``FTTHNOC_SIM_CLOCK``
(Unix seconds) freezes the agent's clock for that.

Used by snmpsim as a variation module (``66:telework`` records, see ``simulator.snmprec``), with the
record's value giving the parameters: the remote-access total (``staff``, ``share``, ``licence``), one part
of it (``weights`` and ``part``: a tunnel-group's or a protocol's share), a constant added (``plus``: the
ASA's LAN-to-LAN sessions in crasNumSessions), or a table row that exists only while the part has more
sessions than the row's ``slot`` (a FortiGate's dial-up peers, one row each; ``value`` is the row's, or
``text`` for a string column: a session's user name, a simulated ``staffNNN``, never a person)::

    1.3.6.1.4.1.9.9.392.1.3.1.0|66:telework|staff=240,share=0.3,licence=100,plus=3
    1.3.6.1.4.1.9.9.392.1.3.35.0|66:telework|staff=240,share=0.3,licence=100,weights=7/90/3,part=1
    1.3.6.1.4.1.9.9.392.1.3.22.1.2.8.116...|2:telework|staff=240,share=0.3,licence=100,weights=85/10/5,part=0
    1.3.6.1.4.1.12356.101.12.2.1.1.8.4|2:telework|staff=60,share=0.3,licence=50,weights=70/30,part=1,slot=3,value=1

snmpsim executes this file in its own interpreter: that must be the project's (``TownAgents`` starts the
responder installed beside this Python), since the calendar is imported from ``ftthnoc``.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import math
import os
from functools import cache
from typing import Any

from ftthnoc.telework.calendar import TeleworkConfig, WorkingCalendar
from ftthnoc.timezone import JST

CLOCK_ENV = "FTTHNOC_SIM_CLOCK"

#: (minute of the day JST, share of the teleworking staff connected) on a working day, linear between
WORKING_DAY: tuple[tuple[int, float], ...] = (
    (0, 0.01), (7 * 60 + 30, 0.01), (8 * 60 + 30, 0.7), (9 * 60 + 15, 1.0),
    (12 * 60, 1.0), (12 * 60 + 15, 0.6), (12 * 60 + 45, 0.6), (13 * 60, 1.0),
    (17 * 60 + 15, 1.0), (18 * 60, 0.35), (19 * 60 + 30, 0.1), (21 * 60, 0.02), (24 * 60, 0.01),
)  # fmt: skip
#: on a closed day only the staff on duty (disaster watch, the water works) connect
CLOSED_DAY: tuple[tuple[int, float], ...] = ((0, 0.01), (9 * 60, 0.01), (10 * 60, 0.03), (17 * 60, 0.03),
                                             (18 * 60, 0.01), (24 * 60, 0.01))  # fmt: skip


@cache
def _calendar() -> WorkingCalendar:
    """The KPI's own calendar with its defaults (holidays from the ``holidays`` library, 年末年始)."""
    return WorkingCalendar(TeleworkConfig(staff=1))


def office_closed(day: _dt.date) -> bool:
    """Whether the town office is closed: weekends, national holidays, 29 December – 3 January. The
    same calendar ``ftthnoc.telework`` counts working days by, so the simulated staff and the KPI agree."""
    return not _calendar().is_working_day(day)


def _interpolate(knots: tuple[tuple[int, float], ...], minute: float) -> float:
    for (m0, v0), (m1, v1) in itertools.pairwise(knots):
        if m0 <= minute <= m1:
            return v0 + (v1 - v0) * (minute - m0) / (m1 - m0)
    return knots[-1][1]


def connected_share(t: float) -> float:
    """Share (0–1) of the teleworking staff connected at Unix time ``t``; a slow ripple (±4 %, period
    47 min) keeps the plateau from being a flat line."""
    now = _dt.datetime.fromtimestamp(t, JST)
    minute = now.hour * 60 + now.minute + now.second / 60
    knots = CLOSED_DAY if office_closed(now.date()) else WORKING_DAY
    ripple = 1 + 0.04 * math.sin(2 * math.pi * (t / 60) / 47)
    return max(0.0, min(1.0, _interpolate(knots, minute) * ripple))


def sessions(t: float, staff: int, share: float, licence: int = 0) -> int:
    """Active remote-access sessions: ``staff × share`` at the plateau, capped by the licence (0 = none)."""
    n = round(staff * share * connected_share(t))
    return min(n, licence) if licence > 0 else n


def split(total: int, weights: tuple[float, ...]) -> list[int]:
    """``total`` shared by ``weights`` in integers that add up (largest remainder)."""
    wsum = sum(weights)
    if total <= 0 or wsum <= 0:
        return [0] * len(weights)
    raw = [total * w / wsum for w in weights]
    out = [math.floor(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))[: total - sum(out)]:
        out[i] += 1
    return out


def clock() -> float:
    """Now, or the frozen time in ``FTTHNOC_SIM_CLOCK`` (read at every call: tests set it per agent)."""
    frozen = os.environ.get(CLOCK_ENV)
    return float(frozen) if frozen else _dt.datetime.now(_dt.UTC).timestamp()


def value_of(params: str, t: float) -> int | str | None:
    """What a ``telework`` record answers at ``t`` (see the docstring for ``params``); None for a table row
    that does not exist at ``t``."""
    opts = dict(item.split("=", 1) for item in params.split(",") if "=" in item)
    n = sessions(t, int(opts["staff"]), float(opts["share"]), int(opts.get("licence", "0")))
    if "weights" in opts:
        weights = tuple(float(w) for w in opts["weights"].split("/"))
        n = split(n, weights)[int(opts.get("part", opts.get("group", "0")))]
    n += int(opts.get("plus", "0"))
    if "slot" in opts:
        if int(opts["slot"]) >= n:
            return None
        return opts["text"] if "text" in opts else int(opts.get("value", "1"))
    return n


# --------------------------------------------------------------------------- snmpsim's hooks
def init(**context: Any) -> None:
    """Nothing to prepare: every answer is computed from the record and the clock."""


def variate(oid: Any, tag: str, value: str, **context: Any) -> tuple[Any, str, Any]:
    """Answer a GET/GETNEXT of a ``telework`` record; SETs are refused as a real counter would. A row that
    does not exist now answers the request's error status: noSuchInstance to a GET, and to a GETNEXT
    endOfMibView, on which snmpsim moves on to the next record (the row is skipped in a walk)."""
    if (not context["nextFlag"] and not context["exactMatch"]) or context["setFlag"]:
        return context["origOid"], tag, context["errorStatus"]
    answer = value_of(value, clock())
    if answer is None:
        return context["origOid"], tag, context["errorStatus"]
    return oid, tag, answer


def shutdown(**context: Any) -> None:
    """Nothing to release."""
