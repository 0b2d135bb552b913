from __future__ import annotations

from collectors.snmp.counters import CounterState

OID = (1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 1)


def test_counter32_wrap_is_extended() -> None:
    c = CounterState()
    assert c.extend("olt", "ifInOctets", OID, 4294967000) == 4294967000
    # wrapped past 2^32: 296 to the top, then 704 more
    assert c.extend("olt", "ifInOctets", OID, 704) == 4294967000 + 296 + 704
    assert c.extend("olt", "ifInOctets", OID, 1704) == 4294967000 + 296 + 1704


def test_large_drop_is_a_reset_not_a_wrap() -> None:
    c = CounterState()
    c.extend("olt", "m", OID, 1_000_000_000)
    # 1e9 → 10 would need 3.3e9 counted in one interval: more than half the range, so a reset
    assert c.extend("olt", "m", OID, 10) == 10
    c.extend("olt", "m", OID, 3_000_000_000)
    # 3e9 → 10 is explained by one wrap of 1.3e9: extended
    assert c.extend("olt", "m", OID, 10) == 2**32 + 10


def test_counter64_decrease_is_always_a_reset() -> None:
    c = CounterState()
    c.extend("olt", "m", OID, 2**64 - 10, width=64)
    assert c.extend("olt", "m", OID, 5, width=64) == 5


def test_uptime_going_back_resets_that_device_only() -> None:
    c = CounterState()
    c.observe_uptime("a", 1000)
    c.observe_uptime("b", 1000)
    c.extend("a", "m", OID, 4294967000)
    c.extend("b", "m", OID, 4294967000)
    assert c.observe_uptime("a", 10) is True
    assert c.observe_uptime("b", 2000) is False
    assert c.extend("a", "m", OID, 100) == 100  # restarted device: no wrap extension
    assert c.extend("b", "m", OID, 100) == 4294967000 + 296 + 100
