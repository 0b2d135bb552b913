"""``if_mib`` as a drop-in for snmp_exporter's ``if_mib``: every sample that module exposes, with its names
and label layout (plus ``device``), so that a dashboard or alert written for snmp_exporter works unchanged.

The reference is snmp_exporter's own generated module, kept as a fixture with its source named
(``tests/fixtures/vendors/ietf/snmp_exporter/if_mib.yml``), never a list written here.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from collectors.snmp import ber
from collectors.snmp.ber import VarBind, parse_oid
from collectors.snmp.decode import decode_module
from collectors.snmp.module import Metric, get_module

from .golden import FIXTURES

REFERENCE = FIXTURES / "ietf" / "snmp_exporter" / "if_mib.yml"
#: snmp_exporter's value types that become a label named after the metric (value 1)
STRING_TYPES = {"PhysAddress48", "OctetString", "DisplayString", "InetAddress", "IpAddr"}
#: ours, not snmp_exporter's: the counter-reset check reads it
OUR_EXTRAS = {"sysUpTime"}


def reference() -> list[dict[str, Any]]:
    metrics: list[dict[str, Any]] = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))["if_mib"]["metrics"]
    return metrics


def exposed(ref: dict[str, Any]) -> tuple[str, frozenset[str], str]:
    """What snmp_exporter exposes for one of its metrics: the sample name, the label names, the kind."""
    labels = {i["labelname"] for i in ref.get("indexes", [])} | {lk["labelname"] for lk in ref.get("lookups", [])}
    if ref["type"] == "EnumAsInfo":
        return ref["name"] + "_info", frozenset(labels | {ref["name"]}), "info"
    if ref["type"] in STRING_TYPES:
        return ref["name"], frozenset(labels | {ref["name"]}), "string"
    return ref["name"], frozenset(labels), ref["type"]


def ours(metric: Metric) -> tuple[str, frozenset[str], str]:
    module = get_module("if_mib")
    labels = {p.labelname for p in module.indexes[metric.index]}
    labels |= {lk.labelname for lk in module.lookups if lk.index == metric.index}
    labels |= set(metric.labels) | ({metric.label} if metric.label else set())
    return metric.name, frozenset(labels | {module.target_label}), metric.type


REFS = reference()


def test_the_reference_is_snmp_exporters_module() -> None:
    assert len(REFS) == 39 and {r["name"] for r in REFS} >= {"ifType", "ifPhysAddress", "ifHCInOctets"}


@pytest.mark.parametrize("ref", REFS, ids=[r["name"] for r in REFS])
def test_every_snmp_exporter_sample_is_ours_with_its_labels(ref: dict[str, Any]) -> None:
    name, labels, kind = exposed(ref)
    mine = [m for m in get_module("if_mib").metrics if m.name == name]
    assert len(mine) == 1, f"if_mib has no {name} (snmp_exporter's {ref['name']}, {ref['oid']})"
    [metric] = mine
    assert metric.oid == ref["oid"]
    assert ours(metric) == (name, labels | {"device"}, kind)


def test_nothing_but_our_named_extras_beyond_snmp_exporter() -> None:
    theirs = {exposed(r)[0] for r in REFS}
    assert {m.name for m in get_module("if_mib").metrics} - theirs == OUR_EXTRAS


def test_the_lookups_are_snmp_exporters() -> None:
    wanted = {(lk["labelname"], lk["oid"]) for r in REFS for lk in r.get("lookups", [])}
    assert {(lk.labelname, lk.oid) for lk in get_module("if_mib").lookups} == wanted


def test_iftype_info_names_the_type_as_snmp_exporters_enum_does() -> None:
    enum = next(r for r in REFS if r["name"] == "ifType")["enum_values"]
    metric = next(m for m in get_module("if_mib").metrics if m.name == "ifType_info")
    assert metric.enum == {int(k): str(v) for k, v in enum.items()}


def _column(oid: str, value: object, tag: int) -> tuple[tuple[int, ...], list[VarBind]]:
    root = parse_oid(oid)
    idx = (0,) if oid == "1.3.6.1.2.1.2.1" else (7,)
    return root, [VarBind(root + idx, tag, value)]  # type: ignore[arg-type]


def test_a_decoded_interface_has_exactly_snmp_exporters_samples_and_labels() -> None:
    """One interface answering every column: the samples' names and label keys are snmp_exporter's."""
    values: dict[str, tuple[object, int]] = {
        "PhysAddress48": (bytes.fromhex("d4e880813401"), ber.OCTET_STRING),
        "OctetString": ((0, 0), ber.OBJECT_IDENTIFIER),  # ifSpecific: an OID, 0.0 when none
        "DisplayString": (b"x", ber.OCTET_STRING),
        "counter": (5, ber.COUNTER32),
        "gauge": (6, ber.INTEGER),
        "EnumAsInfo": (6, ber.INTEGER),
    }
    columns = dict(_column(r["oid"], *values[r["type"]]) for r in REFS)
    for lk in {(lk["oid"], lk["labelname"]) for r in REFS for lk in r.get("lookups", [])}:
        columns.update([_column(lk[0], lk[1].encode(), ber.OCTET_STRING)])
    families, rejected = decode_module(get_module("if_mib"), columns, "rtr")
    got = {(s.name if f.type != "info" or s.name.endswith("_info") else s.name + "_info", frozenset(s.labels))
           for f in families for s in f.samples}
    want = {(exposed(r)[0], exposed(r)[1] | {"device"}) for r in REFS}
    assert got == want and rejected == 0
    by_name = {f.name: f for f in families}
    assert by_name["ifType_info"].samples[0].labels["ifType"] == "ethernetCsmacd"
    assert by_name["ifPhysAddress"].samples[0].labels["ifPhysAddress"] == "D4:E8:80:81:34:01"
    assert by_name["ifSpecific"].samples[0].labels["ifSpecific"] == "0.0"
    assert by_name["ifIndex"].samples[0].labels["ifName"] == "ifName"  # lookups label every interface metric
