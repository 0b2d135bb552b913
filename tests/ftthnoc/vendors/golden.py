"""Golden fixtures: recordings we did not make, and what they must give, written by hand from the source.

Layout (``tests/fixtures/vendors/<pack>/``, a README there names every file's source)::

    snmp/<module>/<case>.snmprec        a recorded walk (or an excerpt), as the source published it
    snmp/<module>/<case>.expected.yaml  the samples the module must make of it, written from the source
    cli/<platform>/<case>.txt           a device's answer to one command, as the source printed it
    cli/<platform>/<case>.expected.yaml what the driver's parser must read from it

``<case>.expected.yaml`` for a module::

    complete: [ftth_onu_up]            # families that must hold exactly these samples, no more
    samples:
      - {name: ftth_onu_rx_power_dbm, labels: {pon_port: 1/1/1, onu_id: "1"}, value: -20.5}
      - {name: ftth_onu_up, labels: {pon_port: 1/1/1, onu_id: "1"}, value: 1}
    absent:                            # samples that must not exist (a sentinel, a malformed row)
      - {name: ftth_onu_rx_power_dbm, labels: {pon_port: 1/1/1, onu_id: "2"}}

Labels given are matched as a subset (the device's own name label is left out). Values compare to 1e-6.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from collectors.snmp.client import Device, SnmpClient
from collectors.snmp.module import get_module
from collectors.snmp.poll import ModuleResult, poll_module
from collectors.snmp.recorded import RecordedAgent
from ftthnoc.config import Auth
from ftthnoc.samples import MetricFamily

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"


@dataclass(frozen=True)
class ModuleCase:
    pack: str
    module: str
    walk: Path
    expected: Path

    @property
    def id(self) -> str:
        return f"{self.pack}/{self.module}/{self.walk.stem}"


def module_cases() -> list[ModuleCase]:
    cases = []
    for walk in sorted(FIXTURES.glob("*/snmp/*/*.snmprec")):
        expected = walk.with_suffix(".expected.yaml")
        cases.append(ModuleCase(walk.parents[2].name, walk.parent.name, walk, expected))
    return cases


async def poll_recorded(module: str, walk: Path) -> ModuleResult:
    device = Device(walk.stem, "walk", 0, Auth())
    return await poll_module(SnmpClient({device.key: RecordedAgent.from_snmprec(walk)}), device, get_module(module))


async def poll_recording(module: str, walk: Path) -> tuple[list[MetricFamily], int]:
    result = await poll_recorded(module, walk)
    assert result.success, f"{walk}: {result.error}"
    return result.families, result.rejected


def _matches(sample_labels: dict[str, str], wanted: dict[str, Any]) -> bool:
    return all(sample_labels.get(k) == str(v) for k, v in wanted.items())


def check(families: list[MetricFamily], expected: dict[str, Any]) -> list[str]:
    """Every difference between what the module made and what the fixture says, one line each."""
    problems: list[str] = []
    by_name = {f.name: f for f in families}
    for want in expected.get("samples", []):
        fam = by_name.get(want["name"])
        found = [s for s in (fam.samples if fam else []) if _matches(dict(s.labels), want.get("labels", {}))]
        if len(found) != 1:
            problems.append(f"{want['name']}{want.get('labels', {})}: {len(found)} samples, want 1")
            continue
        value = found[0].value
        if not math.isclose(value, float(want["value"]), rel_tol=1e-9, abs_tol=1e-6):
            problems.append(f"{want['name']}{want.get('labels', {})}: {value}, want {want['value']}")
    for gone in expected.get("absent", []):
        fam = by_name.get(gone["name"])
        found = [s for s in (fam.samples if fam else []) if _matches(dict(s.labels), gone.get("labels", {}))]
        if found:
            problems.append(f"{gone['name']}{gone.get('labels', {})}: present ({found[0].value}), want absent")
    for name in expected.get("complete", []):
        listed = [w for w in expected.get("samples", []) if w["name"] == name]
        have = len(by_name[name].samples) if name in by_name else 0
        if have != len(listed):
            problems.append(f"{name}: {have} samples, the fixture lists {len(listed)} (complete)")
    return problems


def load_expected(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    assert isinstance(data, dict), f"{path}: want a mapping"
    return data
