"""Every module against every golden recording: the samples written by hand from the source must come out.

The recordings are answered in memory (``collectors.snmp.recorded``, which answers exactly as snmpsim
does: ``tests/collectors/snmp/test_recorded.py``), so this runs for every case in a second.
"""

from __future__ import annotations

import pytest

from .golden import ModuleCase, check, load_expected, module_cases, poll_recorded, poll_recording

CASES = module_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_the_module_reads_the_recording_as_the_source_says(case: ModuleCase) -> None:
    expected = load_expected(case.expected)
    if "error" in expected:  # a device without the module's MIB: the poll fails and says so
        result = await poll_recorded(case.module, case.walk)
        assert not result.success and result.families == [], case.id
        assert result.error is not None and expected["error"] in result.error, (case.id, result.error)
        return
    families, _rejected = await poll_recording(case.module, case.walk)
    problems = check(families, expected)
    assert not problems, "\n".join([case.id, *problems])
