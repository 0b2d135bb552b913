"""The town's DX strategy targets (北広島町), the one place every KPI, page and dashboard compares with.

Source: the town's DX promotion plan's KPIs (see docs/domain.md, "The town and its targets").
"""

from __future__ import annotations

#: FTTH subscribing households (about 90 % of the town's 7,728 households)
FTTH_SUBSCRIBERS = 7000
#: Elementary and junior-high pupils doing online learning and exchange
PUPILS_ONLINE_SHARE = 1.0
#: Reduction of town staff's office attendance through telework and online meetings
TELEWORK_OFFICE_REDUCTION = 0.30
#: Online services "24 hours, 365 days, never stopping": availability shown against 100 %
SERVICE_AVAILABILITY = 1.0
