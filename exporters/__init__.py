"""Exporters: turn neutral samples into Prometheus (``prometheus``) and InfluxDB line protocol (``influx``) output."""
