"""The SNMP client, device modules and decoding: the only place that speaks SNMP."""
