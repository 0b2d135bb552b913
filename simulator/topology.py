"""The town's optical distribution network: two-stage splitting under each PON port (1:4 in the port's street
cabinet, then 1:8 in closures near the homes), derived from the ports' ONUs so that the town's random draws
(and every test pinned to a seed) stay as they were. The inventory document and ``faults.cut_splitter`` read
it; a module of its own, below the model, so that both can import it.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.devices import PonPort

#: First stage 1:4 in the port's street cabinet, second stage 1:8 in closures near the homes: 32 homes a
#: stage-1 splitter (DOMAIN.md: "often two-stage (1:4 then 1:8)").
FIRST_STAGE_RATIO = 4
SECOND_STAGE_RATIO = 8


@dataclass(frozen=True, slots=True)
class Splitter:
    """One splitter of a port; ``onu_ids`` are the ONUs below it (a stage-2 splitter's drops, a stage-1
    splitter's through its children)."""

    name: str
    olt: str
    pon_port: str
    stage: int
    parent: str | None
    ratio: int
    cabinet: str
    onu_ids: tuple[int, ...]


def port_splitters(port: PonPort) -> tuple[Splitter, ...]:
    """The port's splitters, derived from its ONUs alone (no random draw, so the town stays as it was):
    its ONUs in ONT-id order, eight to a stage-2 splitter, four of those to a stage-1 splitter."""
    ids = sorted(u.onu_id for u in port.onus)
    base = f"{port.olt}.{port.frame}-{port.slot}-{port.port}"
    cabinet = f"CAB-{base}"
    per_first = FIRST_STAGE_RATIO * SECOND_STAGE_RATIO
    out: list[Splitter] = []
    for i in range(0, len(ids), per_first):
        first = f"{base}.1-{i // per_first + 1}"
        below = tuple(ids[i : i + per_first])
        out.append(Splitter(first, port.olt, port.name, 1, None, FIRST_STAGE_RATIO, cabinet, below))
        for j in range(i, min(i + per_first, len(ids)), SECOND_STAGE_RATIO):
            out.append(Splitter(f"{base}.2-{j // SECOND_STAGE_RATIO + 1}", port.olt, port.name, 2, first,
                                SECOND_STAGE_RATIO, f"{cabinet}-{j // SECOND_STAGE_RATIO + 1}",
                                tuple(ids[j:j + SECOND_STAGE_RATIO])))  # fmt: skip
    return tuple(out)


def drops(port: PonPort) -> dict[int, str]:
    """ONT id → the stage-2 splitter feeding it."""
    return {onu: s.name for s in port_splitters(port) if s.stage == 2 for onu in s.onu_ids}
