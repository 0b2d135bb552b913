"""Exporters: turn neutral samples into Prometheus (and later InfluxDB) output."""
