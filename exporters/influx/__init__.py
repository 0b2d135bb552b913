"""InfluxDB exporter: every poll written as line protocol, batched, and spooled to disk during outages.

``points.py`` is the point layout (measurement, tags, fields), ``spool.py`` the crash-safe disk spool,
``writer.py`` the background writer the poller hands its families to. Works with InfluxDB 2.x and with
anything that takes the v2 write API, such as VictoriaMetrics (run it with ``-dedup.minScrapeInterval``
so that a batch sent twice after a lost answer is stored once, as InfluxDB does by itself).
"""

from .points import GROUPS, SNMP_MEASUREMENT, Encoded, PointEncoder, split_name
from .spool import Spool, SpoolInUse
from .writer import ERROR_KINDS, InfluxWriter

__all__ = [
    "ERROR_KINDS",
    "GROUPS",
    "SNMP_MEASUREMENT",
    "Encoded",
    "InfluxWriter",
    "PointEncoder",
    "Spool",
    "SpoolInUse",
    "split_name",
]
