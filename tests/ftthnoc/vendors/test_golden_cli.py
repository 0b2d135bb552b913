"""Every driver against every golden CLI transcript: what it must read from a device's answer we did not make.

A transcript (``tests/fixtures/vendors/<pack>/cli/<platform>/<case>.txt``) is one answer as its source
printed it; ``<case>.expected.yaml`` names the driver's parser and the result written by hand::

    parser: autofind                   # a key of the driver class's ``parsers`` table
    result:                            # dataclasses as mappings, tuples as lists, None as null
      - {pon_port: 0/1/0, serial: HWTC-11E70E9A, equipment: 245H}

A driver offers its parsers as a class attribute ``parsers: dict[str, Callable[[str], Any]]`` (pure
functions of the answer, the same ones its verbs call), so a recording checks exactly what the driver
reads from a real device.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from provisioning.drivers import driver_class

from .golden import FIXTURES


def _generic(transcript: Path) -> bool:
    """Transcripts written in this runner's form (``parser`` + ``result``); a pack may keep a richer form of
    its own with its own test (zte: raw TextFSM rows too, tests/provisioning/test_zte_c300_transcripts.py)."""
    expected = yaml.safe_load(transcript.with_suffix(".expected.yaml").read_text(encoding="utf-8")) or {}
    return "result" in expected


CASES = [p for p in sorted(FIXTURES.glob("*/cli/*/*.txt")) if _generic(p)]


def plain(value: Any) -> Any:
    """A parser's result as YAML would write it."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("transcript", CASES, ids=[f"{p.parents[2].name}/{p.parent.name}/{p.stem}" for p in CASES])
def test_the_driver_reads_the_transcript_as_the_source_says(transcript: Path) -> None:
    expected = yaml.safe_load(transcript.with_suffix(".expected.yaml").read_text(encoding="utf-8"))
    cls = driver_class(transcript.parent.name)
    parsers = getattr(cls, "parsers", {})
    assert expected["parser"] in parsers, f"{cls.__name__} has no parser {expected['parser']!r}"
    got = plain(parsers[expected["parser"]](transcript.read_text(encoding="utf-8")))
    assert got == expected["result"]
