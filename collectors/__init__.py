"""Collectors: SNMP polling (``snmp``), ICMP/TCP/ARP probes (``probes``) and traps (``traps``). Never imports
exporters or api."""
