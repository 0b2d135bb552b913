"""A module's ``walk:`` tables: fewer requests, the same families as walking column by column."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors.snmp.ber import parse_oid
from collectors.snmp.client import Device, SnmpClient
from collectors.snmp.module import Module, get_module
from collectors.snmp.poll import ModuleResult, poll_module
from collectors.snmp.recorded import RecordedAgent
from ftthnoc.config import Auth
from ftthnoc.errors import ModuleError

RECORDING = Path(__file__).parents[2] / "fixtures" / "vendors" / "ietf" / "snmp" / "if_mib" / "librenms-asa.snmprec"


async def _poll(module: Module) -> ModuleResult:
    device = Device("asa", "walk", 0, Auth())
    return await poll_module(SnmpClient({device.key: RecordedAgent.from_snmprec(RECORDING)}), device, module)


def _samples(result: ModuleResult) -> dict[str, list[tuple[tuple[tuple[str, str], ...], float]]]:
    return {f.name: sorted((tuple(sorted(s.labels.items())), s.value) for s in f.samples) for f in result.families}


async def test_walking_the_tables_gives_what_walking_each_column_gives() -> None:
    tables = get_module("if_mib")
    assert tables.walk, "if_mib walks IF-MIB's two tables whole, as snmp_exporter's if_mib"
    columns = tables.model_copy(update={"walk": []})
    by_table, by_column = await _poll(tables), await _poll(columns)
    assert by_table.success and by_column.success
    assert _samples(by_table) == _samples(by_column)
    assert sum(len(v) for v in _samples(by_table).values()) > 40  # the ASA: 55 samples


async def test_walking_the_tables_takes_fewer_requests() -> None:
    tables = get_module("if_mib")
    columns = tables.model_copy(update={"walk": []})
    device = Device("asa", "walk", 0, Auth())
    client = SnmpClient({device.key: RecordedAgent.from_snmprec(RECORDING)})
    by_table = await client.walk(device, tables.roots(), tables.limits.limits())
    by_column = await client.walk(device, columns.roots(), columns.limits.limits())
    assert by_table.requests < by_column.requests / 2, (by_table.requests, by_column.requests)


def test_roots_are_the_tables_then_the_columns_under_none() -> None:
    module = get_module("if_mib")
    roots = module.roots()
    assert roots[:2] == [parse_oid("1.3.6.1.2.1.2"), parse_oid("1.3.6.1.2.1.31.1.1")]
    assert roots[2:] == [parse_oid("1.3.6.1.2.1.1.3")]  # sysUpTime lies under neither table


def _module(walk: list[str]) -> str:
    return f"""
name: t
description: t
indexes: {{if: [{{labelname: ifIndex}}], scalar: []}}
walk: {walk}
metrics:
  - {{name: ifInOctets, oid: 1.3.6.1.2.1.2.2.1.10, index: if, type: counter, help: h}}
"""


@pytest.mark.parametrize(("walk", "message"), [
    (["1.3.6.1.2.1.31"], "no column of the module lies under 1.3.6.1.2.1.31"),
    (["1.3.6.1.2.1.2", "1.3.6.1.2.1.2.2"], "lies under another walk entry"),
])
def test_a_walk_entry_that_saves_nothing_is_refused(walk: list[str], message: str) -> None:
    from collectors.snmp.module import parse_module

    with pytest.raises(ModuleError, match=message):
        parse_module(_module(walk), "test")
