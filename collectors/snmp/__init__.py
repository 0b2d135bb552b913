"""collectors/snmp."""
