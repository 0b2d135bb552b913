"""Fixtures shared by every test package: the simulated town's agents (real snmpsim processes on
loopback, started once per session) and the net-snmp tools used as the independent check."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

from simulator.agents import TownAgents
from simulator.shareddata import SHARED_DATA_ENV
from simulator.town import Town, generate_town
from tests import ordering
from tests.towns import running

SMALL_ONUS = 600


#: Fixtures that start processes or servers: snmpsim agents, SSH simulators, namespaces, VictoriaMetrics.
PROCESS_FIXTURES = frozenset({
    "small_agents", "full_agents", "router_agents", "env", "lab", "netns_ok", "vm", "start_vm", "served", "snmpd",
})
#: Test modules whose tests start processes themselves (``python -m app``, net-snmp's tools, promtool,
#: Prometheus, Chromium, a fresh interpreter) or bind real servers.
PROCESS_MODULES = frozenset({
    "tests/api/web/test_browser.py", "tests/api/test_schemathesis.py", "tests/app/test_cli.py",
    "tests/app/test_demo_probes.py", "tests/app/test_hostile_agents.py", "tests/app/test_serve_components.py",
    "tests/app/test_wiring.py", "tests/collectors/snmp/test_recorded.py", "tests/collectors/traps/test_receiver.py",
    "tests/collectors/traps/test_receiver_fuzz.py", "tests/exporters/prometheus/test_promtool.py",
    "tests/ftthnoc/inventory/test_listeners.py", "tests/grafana/test_queries.py", "tests/grafana/test_rules.py",
    "tests/simulator/test_agents.py", "tests/simulator/test_cli_olt.py", "tests/simulator/test_cli_yamaha.py",
    "tests/simulator/test_bwa_vpn.py", "tests/ftthnoc/incidents/test_town.py",
    "tests/ftthnoc/incidents/test_town_kinds.py", "tests/ftthnoc/kpi/test_availability_town.py",
    "tests/simulator/test_shareddata.py", "tests/simulator/test_prefecture.py",
    "tests/api/test_service.py", "tests/api/web/test_kpis_history_browser.py", "tests/api/web/test_outages_browser.py",
    "tests/api/web/test_outage_map_browser.py", "tests/api/web/test_household_week_browser.py",
    "tests/collectors/throughput/test_iperf.py", "tests/grafana/test_alertmanager.py", "tests/grafana/test_infinity.py",
})


#: the store of agents' data this run made (``simulator.shareddata``), removed when the run ends
_RUN_STORE: list[str] = []


def _share_the_simulators_data() -> None:
    """One store of the simulated devices' data and indexes for the whole run: every module, every xdist
    worker and every ``python -m app demo`` the tests start inherit it from the environment, so a town
    already served once starts without snmpsim indexing it again (half its agents' CPU). A run given a
    store keeps it; the workers, started by the first process, find it set."""
    if os.environ.get(SHARED_DATA_ENV) or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    store = tempfile.mkdtemp(prefix="ftthnoc-sim-store-")
    _RUN_STORE.append(store)
    os.environ[SHARED_DATA_ENV] = store


def pytest_unconfigure(config: pytest.Config) -> None:
    for store in _RUN_STORE:
        shutil.rmtree(store, ignore_errors=True)
        os.environ.pop(SHARED_DATA_ENV, None)


def pytest_configure(config: pytest.Config) -> None:
    _share_the_simulators_data()
    config.pluginmanager.register(ordering.ModuleTimer(config, config.getoption("--write-module-seconds")),
                                  "ftthnoc-module-timer")
    config.addinivalue_line("markers", "full_town: starts agents for the full 7,000-ONU default town")
    config.addinivalue_line("markers", "process: starts processes or servers (snmpsim, SSH simulators, namespaces, "
                            "Prometheus, Chromium, ftthnoc itself); `pytest -m 'not process'` runs the rest in "
                            "seconds")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--write-module-seconds", action="store_true",
                     help=f"write each module's measured seconds to {ordering.COMMITTED.name} (the order a fresh "
                          "checkout runs the modules in)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The ``process`` marker, from the fixtures a test uses or the module it is in: one place to keep;
    then the modules longest first (``tests/ordering.py``), placing one never timed by what it starts."""
    module_of: dict[pytest.Item, str] = {}
    guess: dict[str, float] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]  # as the reports name it (``ordering.ModuleTimer``)
        module_of[item] = module
        fixtures = set(getattr(item, "fixturenames", ()))
        if module in PROCESS_MODULES or PROCESS_FIXTURES & fixtures:
            item.add_marker(pytest.mark.process)
            guess[module] = ordering.GUESS_PROCESS
        elif "make_database" in fixtures:
            guess[module] = max(guess.get(module, 0.0), ordering.GUESS_DATABASE)
    ordering.sort_longest_first(items, module_of, guess, ordering.known_seconds(config))


@pytest.fixture(scope="session")
def small_town() -> Town:
    return generate_town(seed=2026, onus=SMALL_ONUS)


@pytest.fixture(scope="session")
def small_agents(small_town: Town) -> Iterator[TownAgents]:
    with running(small_town) as agents:
        yield agents


@pytest.fixture(scope="session")
def full_town() -> Town:
    return generate_town()


@pytest.fixture(scope="session")
def full_agents(full_town: Town) -> Iterator[TownAgents]:
    """The default 7,000-ONU town: started only by tests marked ``full_town``."""
    with running(full_town) as agents:
        yield agents


@pytest.fixture(scope="session")
def net_snmp() -> dict[str, str]:
    """Paths of the net-snmp command-line tools, or skip: they are the independent check."""
    tools = {name: shutil.which(name) for name in ("snmpbulkwalk", "snmpget")}
    missing = [n for n, p in tools.items() if p is None]
    if missing:
        pytest.skip(f"net-snmp tools not installed: {', '.join(missing)}")
    return {n: p for n, p in tools.items() if p is not None}


@pytest.fixture(autouse=True)
def _fresh_cli_settings() -> Iterator[None]:
    """Each test's in-process CLI reads the environment afresh, as each real `ftthnoc` process does: the
    settings object is read once per process, and a test that sets FTTHNOC_DATABASE_URL must not get the one
    an earlier test's command cached."""
    import app.cli.common as common

    common._SETTINGS = None
    yield
    common._SETTINGS = None
