"""SNMP traps and informs in, ``DeviceEvent``s out: the receiver, its trap mapping (``traps.yaml``) and counters.

``TrapReceiver(config, auths, on_event)`` runs on the caller's asyncio loop; ``on_event`` gets one
``ftthnoc.events.DeviceEvent`` per accepted trap, for the incident engine. Never imports exporters or api.
"""

from collectors.traps.config import TrapConfig, TrapDevice
from collectors.traps.families import DROP_REASONS, TrapCounters
from collectors.traps.mapping import RuleSet, load_rules
from collectors.traps.receiver import TrapReceiver

__all__ = ["DROP_REASONS", "RuleSet", "TrapConfig", "TrapCounters", "TrapDevice", "TrapReceiver", "load_rules"]
