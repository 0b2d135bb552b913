"""Fault classification and incidents: many ONU alarms correlated into one feeder cut or power outage.

``classify`` turns trap causes and polled families into ``DeviceEvent``s with a fault class,
``engine`` correlates them into incidents kept in the inventory database, ``families`` exposes them as
metrics, ``export`` writes the quarterly CSV for the Telecommunications Business Act report.
"""
