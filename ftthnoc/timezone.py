"""Japan Standard Time, the town's clock: working days, months, quarters and every time a person reads.

Stored times are UTC; JST is for the calendar (a KPI month, the ministry's quarter) and for display.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")
