"""The simulated town: a deterministic model of the network (``town``: OLTs and ONUs, regional BWA
stations, the telework VPN gateway), the snmpsim data files it implies (``snmprec``, with the
``variation`` modules that compute values when asked) and the agent processes that serve them
(``agents``).

The demo, the tests and the benchmarks all run against it, so a new user sees the whole system work
before touching a real OLT::

    from simulator import TownAgents, generate_town

    with TownAgents(generate_town(onus=600)) as agents:
        config = agents.poller_config()          # targets point at the running agents
        inventory = agents.inventory_document()  # for the inventory importer
"""

from simulator.agents import AgentStartError, ServedWalk, TownAgents, serve_walk, start_town
from simulator.town import (
    DEFAULT_BWA_STATIONS,
    DEFAULT_DISTRICTS,
    DEFAULT_OLTS,
    DEFAULT_STAFF,
    DEFAULT_VPN_GATEWAYS,
    BwaSpec,
    DistrictSpec,
    FaultRates,
    OltSpec,
    Town,
    VpnSpec,
    generate_town,
)

__all__ = [
    "DEFAULT_BWA_STATIONS",
    "DEFAULT_DISTRICTS",
    "DEFAULT_OLTS",
    "DEFAULT_STAFF",
    "DEFAULT_VPN_GATEWAYS",
    "AgentStartError",
    "BwaSpec",
    "DistrictSpec",
    "FaultRates",
    "OltSpec",
    "ServedWalk",
    "Town",
    "TownAgents",
    "VpnSpec",
    "generate_town",
    "serve_walk",
    "start_town",
]
