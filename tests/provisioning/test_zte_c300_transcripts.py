"""The ZTE C300 driver's parsers against answers recorded from real C300/C320 OLTs (golden transcripts).

Each ``tests/fixtures/vendors/zte/cli/zte_c300/<case>.txt`` is a device's answer to one command, as its
public source printed it (``README.md`` there names each source); ``<case>.expected.yaml`` says, written
from the source, what the parser must read: rows (all of them when ``count`` is given), the number of
working ONUs where the OLT printed it in its footer, and what the driver's ``autofind()`` returns.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from provisioning.drivers.base import CliTarget, DeviceRefused
from provisioning.drivers.netmiko_session import parse_textfsm
from provisioning.drivers.templates import cli_file
from provisioning.drivers.zte_c300 import ZteC300Driver

TRANSCRIPTS = Path(__file__).resolve().parents[1] / "fixtures" / "vendors" / "zte" / "cli" / "zte_c300"
CASES = sorted(TRANSCRIPTS.glob("*.txt"))


class _Replay:
    """A session that answers each command with a recorded answer, refusing as the real session does."""

    prompt = "ZXAN(config)#"

    def __init__(self, answers: dict[str, str], refusal: re.Pattern[str]) -> None:
        self.answers = answers
        self.refusal = refusal

    def send(self, command: str, expect: str | None = None, *, check: bool = True) -> str:
        answer = self.answers[command]
        if check and self.refusal.search(answer):
            raise DeviceRefused("olt", command, answer)
        return answer


def _expected(case: Path) -> dict[str, Any]:
    data = yaml.safe_load(case.with_suffix(".expected.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_the_parser_reads_the_recorded_answer_as_the_source_says(case: Path) -> None:
    want = _expected(case)
    text = case.read_text(encoding="utf-8")
    if want.get("nothing"):
        assert "No related information to show" in text
        return
    rows = parse_textfsm(cli_file(want["parser"]), text)
    if "count" in want:
        assert len(rows) == want["count"]
    for row in want.get("rows", []):
        assert {k: str(v) for k, v in row.items()} in rows
    if "working" in want:
        assert sum(r["PHASE_STATE"] == "working" for r in rows) == want["working"]


@pytest.mark.parametrize("case", [c for c in CASES if "autofind" in _expected(c)], ids=lambda c: c.stem)
def test_the_driver_reads_autofind_from_the_recorded_answer(case: Path) -> None:
    want = _expected(case)
    target = CliTarget("olt", "zte_c300", "127.0.0.1", 22, "u", SecretStr("p"))
    driver = ZteC300Driver(target)
    driver.session = _Replay({want["command"]: case.read_text(encoding="utf-8").rstrip("\n")},  # type: ignore[assignment]
                             ZteC300Driver.refusal)
    got = [{"pon_port": a.pon_port, "serial": a.serial} for a in driver.autofind()]
    assert got == want["autofind"]


@pytest.mark.parametrize("case", [c for c in CASES if "onts_ids" in _expected(c)], ids=lambda c: c.stem)
def test_the_driver_reads_the_onts_of_a_port_from_the_recorded_answer(case: Path) -> None:
    want = _expected(case)
    port = want["command"].rpartition("gpon-olt_")[2]
    target = CliTarget("olt", "zte_c300", "127.0.0.1", 22, "u", SecretStr("p"))
    driver = ZteC300Driver(target)
    answers = {want["command"]: case.read_text(encoding="utf-8").rstrip("\n"),
               f"show gpon onu state gpon-olt_{port}": "%Code 62310-GPONSRV : No related information to show."}
    driver.session = _Replay(answers, ZteC300Driver.refusal)  # type: ignore[assignment]
    onts = driver.onts(port)
    assert [o.ont_id for o in onts] == want["onts_ids"]
    serials = {o.ont_id: o.serial for o in onts}
    assert {k: serials[k] for k in want["onts_serials"]} == want["onts_serials"]
