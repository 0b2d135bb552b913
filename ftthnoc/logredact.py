"""The last line of defence for personal data in logs: household codes are redacted from every record.

Log lines name households by their database id (the audit table holds codes, for the roles that may read
them). Code that logs an exception cannot know whether its message quotes a device's answer that holds a
code (an OLT's refusal repeats the ONT's ``desc "HH-000123"``), so the handlers the command line installs
carry this filter: message, arguments and traceback text alike.
"""

from __future__ import annotations

import logging
import re

#: the inventory's household code (``HH-000123``; see ``ftthnoc.inventory``'s row schema)
HOUSEHOLD_CODE = re.compile(r"HH-\d{6}")
REDACTED = "HH-******"


class RedactHouseholdCodes(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if HOUSEHOLD_CODE.search(message):
            record.msg, record.args = HOUSEHOLD_CODE.sub(REDACTED, message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and HOUSEHOLD_CODE.search(record.exc_text):
            record.exc_text = HOUSEHOLD_CODE.sub(REDACTED, record.exc_text)
        return True


def install(handler: logging.Handler) -> None:
    """Add the filter to ``handler`` once."""
    if not any(isinstance(f, RedactHouseholdCodes) for f in handler.filters):
        handler.addFilter(RedactHouseholdCodes())
