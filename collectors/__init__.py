"""Collectors: SNMP polling today; probes and traps later. Never imports exporters or api."""
