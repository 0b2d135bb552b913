"""Failed service checks in a row, and a log that says a failure once (with its reason) and a recovery once."""

from __future__ import annotations

import logging

import pytest

from collectors.probes.config import HttpTarget
from collectors.probes.prober import ServiceState

PORTAL = HttpTarget(name="e-application", url="https://shinsei.town.example/")
SITE = HttpTarget(name="website", url="https://www.town.example/", district="chiyoda")


def counts(state: ServiceState, *outcomes: tuple[HttpTarget, bool, str]) -> dict[str, float]:
    fam = state.update(outcomes)
    assert fam.name == "ftthnoc_probe_service_failed_cycles"
    return {s.labels["target"]: s.value for s in fam.samples}


def test_failed_cycles_count_up_and_reset(caplog: pytest.LogCaptureFixture) -> None:
    state = ServiceState("http")
    with caplog.at_level(logging.INFO, logger="collectors.probes.prober"):
        assert counts(state, (PORTAL, False, "status 500 not in 2xx"), (SITE, True, "")) == {
            "e-application": 1, "website": 0}
        assert counts(state, (PORTAL, False, "status 500 not in 2xx"), (SITE, True, "")) == {
            "e-application": 2, "website": 0}
        assert counts(state, (PORTAL, False, "connection refused"), (SITE, True, "")) == {
            "e-application": 3, "website": 0}
        assert counts(state, (PORTAL, True, ""), (SITE, True, "")) == {"e-application": 0, "website": 0}
        assert counts(state, (SITE, False, "timeout")) == {"website": 1}  # the portal left the configuration
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "http check of service e-application failed: status 500 not in 2xx",  # once, not every cycle
        "http check of service e-application failed: connection refused",  # the reason changed
        "http check of service e-application succeeds again after 3 failed cycles",
        "http check of service website failed: timeout",
    ]


def test_labels_are_identity_only() -> None:
    fam = ServiceState("dns").update([(SITE, True, "")])
    assert [dict(s.labels) for s in fam.samples] == [
        {"target": "website", "kind": "service", "district": "chiyoda", "probe": "dns"}]
