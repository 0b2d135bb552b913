"""``promtool check metrics`` on what /metrics serves: our own names lint clean, snmp_exporter's are kept.

The camelCase, ``_total``-less interface names are deliberate (existing dashboards use
``rate(ifHCInOctets[5m])``), so the second test pins the lint output to exactly those families.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from exporters.prometheus import ExporterServer, Snapshot

from .conftest import http_get, if_mib_families, own_families

PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool (Prometheus) is not on PATH")

SNMP_EXPORTER_NAMES = ("ifHCInOctets", "ifOperStatus")


def promtool_check(body: bytes) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, "check", "metrics"], input=body.decode("utf-8"), capture_output=True, text=True, timeout=30
    )


def test_own_families_pass_promtool(server: ExporterServer, snapshot: Snapshot) -> None:
    snapshot.publish("olt1", "huawei_gpon", own_families("olt1", errors=2))
    snapshot.publish("olt2", "huawei_gpon", own_families("olt2", success=0))
    body = http_get(server.url + "/metrics").body
    for name in (
        "ftth_onu_rx_power_dbm",
        "ftthnoc_scrape_success",
        "ftthnoc_scrape_errors_total",
        "ftth_onu_last_down_cause_info",
    ):
        assert f"\n{name}{{".encode() in b"\n" + body
    result = promtool_check(body)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_only_the_snmp_exporter_names_are_linted(server: ExporterServer, snapshot: Snapshot) -> None:
    snapshot.publish("olt1", "huawei_gpon", own_families("olt1"))
    snapshot.publish("olt1", "if_mib", if_mib_families("olt1"))
    snapshot.publish("olt2", "if_mib", if_mib_families("olt2"))
    body = http_get(server.url + "/metrics").body
    result = promtool_check(body)
    assert result.returncode != 0
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert complaints, "promtool found nothing to say about camelCase names"
    for line in complaints:
        assert line.split(" ", 1)[0] in SNMP_EXPORTER_NAMES, line
        assert (
            "should be written in 'snake_case' not 'camelCase'" in line
            or 'counter metrics should have "_total" suffix' in line
        ), line
    assert 'ifHCInOctets counter metrics should have "_total" suffix' in complaints
    assert "ifHCInOctets metric names should be written in 'snake_case' not 'camelCase'" in complaints
    assert "ifOperStatus metric names should be written in 'snake_case' not 'camelCase'" in complaints
    assert not any(line.startswith("ifOperStatus counter") for line in complaints)
