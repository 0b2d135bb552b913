"""Household codes never reach a log line, even inside an exception's text."""

from __future__ import annotations

import io
import logging

from ftthnoc.logredact import RedactHouseholdCodes


def test_codes_in_messages_arguments_and_tracebacks_are_redacted() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactHouseholdCodes())
    log = logging.getLogger("test.logredact")
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.DEBUG)
    try:
        log.warning("enrolment of %s failed", "HH-000123")
        log.warning("device said: Failure: SN already exists (desc HH-004567)")
        try:
            raise RuntimeError('ont add 0 sn-auth 48575443A1B2C3D4 desc "HH-000999" refused')
        except RuntimeError:
            log.exception("job crashed")
        log.info("job 7 for household id 42 done")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert "HH-000123" not in text and "HH-004567" not in text and "HH-000999" not in text
    assert text.count("HH-******") == 4  # two messages; the source line and the message in the traceback
    assert "RuntimeError" in text and "household id 42" in text  # the rest is kept
