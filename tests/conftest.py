"""Fixtures shared by every test package: the simulated town's agents (real snmpsim processes on
loopback, started once per session) and the net-snmp tools used as the independent check."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from simulator.agents import TownAgents, snmpsim_executable
from simulator.town import Town, generate_town

SMALL_ONUS = 600


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "full_town: starts agents for the full 7,000-ONU default town")


@pytest.fixture(scope="session")
def small_town() -> Town:
    return generate_town(seed=2026, onus=SMALL_ONUS)


@pytest.fixture(scope="session")
def small_agents(small_town: Town) -> Iterator[TownAgents]:
    try:
        snmpsim_executable()
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"snmpsim not installed: {exc}")
    with TownAgents(small_town) as agents:
        yield agents


@pytest.fixture(scope="session")
def full_town() -> Town:
    return generate_town()


@pytest.fixture(scope="session")
def full_agents(full_town: Town) -> Iterator[TownAgents]:
    """The default 7,000-ONU town: started only by tests marked ``full_town``."""
    try:
        snmpsim_executable()
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"snmpsim not installed: {exc}")
    with TownAgents(full_town) as agents:
        yield agents


@pytest.fixture(scope="session")
def net_snmp() -> dict[str, str]:
    """Paths of the net-snmp command-line tools, or skip: they are the independent check."""
    tools = {name: shutil.which(name) for name in ("snmpbulkwalk", "snmpget")}
    missing = [n for n, p in tools.items() if p is None]
    if missing:
        pytest.skip(f"net-snmp tools not installed: {', '.join(missing)}")
    return {n: p for n, p in tools.items() if p is not None}
