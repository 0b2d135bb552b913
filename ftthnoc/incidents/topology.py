"""The optical distribution network as the incident engine reads it: which splitters hang under each PON
port and which ONUs each one feeds (its drops, and its children's).

Loaded once into plain dictionaries, like ``households``, so that the poll loop never queries the database;
reload it (``IncidentEngine.set_topology``) when the inventory changes. An inventory without splitters gives
an empty topology, and the per-port rules (feeder cut, line fault) work as they always did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ftthnoc.incidents.households import OnuKey
from ftthnoc.inventory.models import Olt, Onu, PonPort, Splitter


@dataclass(frozen=True, slots=True)
class SplitterNode:
    """One splitter: where it is in the tree and the cabinet it sits in (None: not recorded)."""

    name: str
    olt: str
    pon_port: str
    stage: int
    parent: str | None = None
    cabinet: str | None = None


class TopologyLookup(Protocol):
    """What the engine asks about the splitter tree; ``InventoryTopology`` is the database-backed one."""

    def port_splitters(self, olt: str, pon_port: str) -> Sequence[SplitterNode]: ...

    def onus_below(self, splitter: str) -> frozenset[OnuKey]: ...

    def splitters_above(self, key: OnuKey) -> Sequence[str]: ...


@dataclass(slots=True)
class InventoryTopology:
    """Splitters by name and each ONU's drop (the splitter feeding it), with the derived look-ups."""

    nodes: Mapping[str, SplitterNode] = field(default_factory=dict)
    drops: Mapping[OnuKey, str] = field(default_factory=dict)
    _below: dict[str, frozenset[OnuKey]] = field(init=False, repr=False)
    _above: dict[OnuKey, tuple[str, ...]] = field(init=False, repr=False)
    _ports: dict[tuple[str, str], tuple[SplitterNode, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        below: dict[str, set[OnuKey]] = {name: set() for name in self.nodes}
        above: dict[OnuKey, tuple[str, ...]] = {}
        for key, name in self.drops.items():
            chain: list[str] = []
            at: str | None = name
            while at is not None and at in self.nodes and at not in chain:  # the import refuses cycles
                chain.append(at)
                below[at].add(key)
                at = self.nodes[at].parent
            above[key] = tuple(chain)
        self._below = {k: frozenset(v) for k, v in below.items()}
        self._above = above
        ports: dict[tuple[str, str], list[SplitterNode]] = {}
        for node in self.nodes.values():
            ports.setdefault((node.olt, node.pon_port), []).append(node)
        # shallow first: a cut is put at the highest splitter all of whose homes are dark
        self._ports = {k: tuple(sorted(v, key=lambda n: (n.stage, n.name))) for k, v in ports.items()}

    @classmethod
    def load(cls, session: Session) -> InventoryTopology:
        parent = aliased(Splitter)
        rows = session.execute(
            select(Splitter.name, Olt.name, PonPort.port, Splitter.stage, parent.name, Splitter.cabinet)
            .join(PonPort, Splitter.pon_port_id == PonPort.id)
            .join(Olt, PonPort.olt_id == Olt.id)
            .outerjoin(parent, Splitter.parent_id == parent.id)
        )
        nodes = {name: SplitterNode(name, olt, port, stage, up, cab) for name, olt, port, stage, up, cab in rows}
        drop_rows = session.execute(
            select(Olt.name, PonPort.port, Onu.onu_id, Splitter.name)
            .select_from(Onu)
            .join(Splitter, Onu.splitter_id == Splitter.id)
            .join(PonPort, Onu.pon_port_id == PonPort.id)
            .join(Olt, PonPort.olt_id == Olt.id)
        )
        drops = {(olt, port, str(onu_id)): name for olt, port, onu_id, name in drop_rows}
        return cls(nodes, drops)

    @classmethod
    def from_sessions(cls, session_factory: Callable[[], Session]) -> InventoryTopology:
        with session_factory() as session:
            return cls.load(session)

    def port_splitters(self, olt: str, pon_port: str) -> Sequence[SplitterNode]:
        """The port's splitters, first stage first."""
        return self._ports.get((olt, pon_port), ())

    def onus_below(self, splitter: str) -> frozenset[OnuKey]:
        return self._below.get(splitter, frozenset())

    def splitters_above(self, key: OnuKey) -> Sequence[str]:
        """The splitters an ONU hangs under, its drop first."""
        return self._above.get(key, ())

    def node(self, name: str) -> SplitterNode | None:
        return self.nodes.get(name)
