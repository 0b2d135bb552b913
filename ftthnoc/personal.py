"""What personal data is, in one place: households' names, addresses and phone numbers are personal
information under the Act on the Protection of Personal Information (municipalities fall under it
directly since April 2023). Every module that must keep them out (labels, points, logs, dashboards) or
let only some roles read them asks here.
"""

from __future__ import annotations

#: The household contact's columns that are personal data: shown only to the roles that need them,
#: every read and change audited by field name (never by value). A new personal field is one edit here
#: plus its column.
PERSONAL_FIELDS: tuple[str, ...] = ("name", "address", "phone")

#: Label, tag and field names that no metric, InfluxDB point, dashboard or alert may carry.
FORBIDDEN_LABELS: frozenset[str] = frozenset({*PERSONAL_FIELDS, "household", "contact"})
