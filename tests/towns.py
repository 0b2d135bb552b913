"""Starting a simulated town's agents in a fixture: one place for the skip when snmpsim is not installed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from simulator.agents import TownAgents, snmpsim_executable
from simulator.town import Town


def require_snmpsim() -> None:
    """Skip the test, with the reason, on a machine without snmpsim."""
    try:
        snmpsim_executable()
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"snmpsim not installed: {exc}")


@contextmanager
def running(town: Town, **kwargs: Any) -> Iterator[TownAgents]:
    """The town's agents (``TownAgents`` keyword arguments in ``kwargs``), stopped on leaving."""
    require_snmpsim()
    with TownAgents(town, **kwargs) as agents:
        yield agents
