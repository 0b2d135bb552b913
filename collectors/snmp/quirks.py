"""The few things about device families that data cannot say: index arithmetic and roll-ups.

Modules name these functions; adding a family means adding YAML and, only if it must, a function here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping

from ftthnoc.samples import MetricFamily

HUAWEI_GPON_BASE = 4194304000  # ifIndex of GPON 0/0/0 on MA5600T/MA5800 (above 2^31)
ZTE_GPON_BASE = 0x10000000  # ponIndex 0x10010100 is gpon-olt_1/1/1 on C300/C320 (V1 tree)


def huawei_gpon_fsp(ifindex: int) -> str:
    """Frame/slot/port from a Huawei GPON port ifIndex: base + F·2^19 + S·8192 + P·256."""
    x = ifindex - HUAWEI_GPON_BASE
    if x < 0 or x & 0xFF:
        return str(ifindex)
    return f"{x >> 19}/{(x >> 13) & 0x3F}/{(x >> 8) & 0x1F}"


def zte_gpon_port(pon_index: int) -> str:
    """Rack/slot/port from a ZTE ponIndex: 0x10000000 + slot·65536 + port·256 (rack is always 1)."""
    x = pon_index - ZTE_GPON_BASE
    if x < 0 or x >> 24 or x & 0xFF:
        return str(pon_index)
    return f"1/{(x >> 16) & 0xFF}/{(x >> 8) & 0xFF}"


INDEX_QUIRKS: dict[str, Callable[[int], str]] = {
    "huawei_gpon_fsp": huawei_gpon_fsp,
    "zte_gpon_port": zte_gpon_port,
}

#: which last-down causes count as what on the per-port roll-up
LOS_CAUSES = frozenset({"los", "losi_lobi"})
POWER_CAUSES = frozenset({"dying_gasp"})


def pon_rollup(families: list[MetricFamily], instances: Mapping[str, list[dict[str, str]]]) -> list[MetricFamily]:
    """Per PON port: ONUs known, up and down, and down ONUs by cause (dying gasp, LOS, other).

    Computed from the module's own per-ONU families and the ``onu`` instances the agent listed, so
    that every GPON family reports the same port metrics whatever its vendor tree looks like.
    """
    known = MetricFamily("ftth_pon_port_onus_known", "ONUs the OLT lists on the PON port (in any "
                         "per-ONU column, whatever their state).")
    per_port: Counter[tuple[tuple[str, str], ...]] = Counter(
        tuple((k, v) for k, v in lab.items() if k != "onu_id") for lab in instances.get("onu", ())
    )
    for port_key, n in per_port.items():
        known.add(dict(port_key), n)
    families = [*families, known]
    by_name = {f.name: f for f in families}
    up = by_name.get("ftth_onu_up")
    if up is None:
        return families
    causes: dict[tuple[str, str], str] = {}
    cause_fam = by_name.get("ftth_onu_last_down_cause")
    if cause_fam is not None:
        for s in cause_fam.samples:
            causes[(s.labels.get("pon_port", ""), s.labels.get("onu_id", ""))] = s.labels.get("cause", "")
    state: Counter[tuple[tuple[tuple[str, str], ...], str]] = Counter()
    down: Counter[tuple[tuple[tuple[str, str], ...], str]] = Counter()
    ports: dict[tuple[tuple[str, str], ...], None] = {}
    for s in up.samples:
        port_key = tuple((k, v) for k, v in s.labels.items() if k != "onu_id")
        ports.setdefault(port_key)
        if s.value >= 1:
            state[(port_key, "up")] += 1
            continue
        state[(port_key, "down")] += 1
        cause = causes.get((s.labels.get("pon_port", ""), s.labels.get("onu_id", "")), "")
        bucket = "dying_gasp" if cause in POWER_CAUSES else "los" if cause in LOS_CAUSES else "other"
        down[(port_key, bucket)] += 1
    onus = MetricFamily("ftth_pon_port_onus", "ONUs on the PON port by current state (up, down).")
    down_fam = MetricFamily(
        "ftth_pon_port_onus_down", "Down ONUs on the PON port by last down cause (dying_gasp, los, other)."
    )
    for port_key in ports:
        for st in ("up", "down"):
            onus.add({**dict(port_key), "state": st}, state[(port_key, st)])
        for bucket in ("dying_gasp", "los", "other"):
            down_fam.add({**dict(port_key), "cause": bucket}, down[(port_key, bucket)])
    return [*families, onus, down_fam]


Postprocess = Callable[[list[MetricFamily], Mapping[str, list[dict[str, str]]]], list[MetricFamily]]
POSTPROCESS: dict[str, Postprocess] = {
    "pon_rollup": pon_rollup,
}
