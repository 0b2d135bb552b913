"""Availability over real polls of the simulated town (snmpsim on loopback, the real poller): an OLT whose
agent stops answering makes its homes count as down for the time it is dark, not as skipped time."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from collectors.runner import Poller
from ftthnoc.config import Config
from ftthnoc.inventory import db
from ftthnoc.kpi import figures
from ftthnoc.kpi.recorder import KpiRecorder
from simulator.agents import TownAgents
from simulator.generate import generate_town
from tests.ftthnoc.kpi.conftest import town_inventory
from tests.towns import running

T0 = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)
INTERVAL = 60.0


@pytest.fixture(scope="module")
def olt_agents() -> Iterator[TownAgents]:
    town = dataclasses.replace(generate_town(seed=11, onus=160, schools=0), bwa_stations=(), vpn_gateways=())
    with running(town) as agents:
        yield agents


async def _round(poller: Poller, recorder: KpiRecorder, config: Config, at: datetime) -> dict[str, list[float]]:
    """Poll every OLT once through the real poller, feeding the recorder; each OLT's ONU up values (its
    lines in service only), as it answered."""
    ups: dict[str, list[float]] = {}
    for target in config.targets:
        fams = await poller.poll_target(target)
        recorder.record_poll(target.name, fams, now=at)
        ups[target.name] = [s.value for f in fams if f.name == "ftth_onu_up" for s in f.samples
                            if (s.labels["olt"], s.labels["pon_port"], s.labels["onu_id"]) not in recorder.off_lines]
    return ups


def _month(engine: Engine) -> dict[str, Any]:
    with db.session_scope(engine) as s:
        (month,) = figures.availability(s)
    return month


async def test_a_stopped_olt_lowers_availability_by_its_share_of_the_time(olt_agents: TownAgents,
                                                                          tmp_path: Path) -> None:
    engine = town_inventory(olt_agents.town, tmp_path)
    document = olt_agents.poller_config(interval_seconds=INTERVAL)
    for t in document["targets"]:
        t["timeout"], t["retries"] = 1.0, 0  # a silent OLT costs a second per poll, not ten
    config = Config.model_validate(document)
    recorder = KpiRecorder(engine, INTERVAL)
    poller = Poller(config, lambda *_: None)
    dark_olt = ""
    try:
        first = await _round(poller, recorder, config, T0)  # every OLT answers
        before = _month(engine)
        dark_olt = max(first, key=lambda o: sum(first[o]))  # the OLT with the most homes up
        homes, up_homes = len(first[dark_olt]), sum(first[dark_olt])
        assert up_homes > 0 and before["expected_seconds"] == sum(len(v) for v in first.values()) * INTERVAL
        olt_agents.agents[dark_olt].host_process.stop()  # type: ignore[union-attr]
        later = [await _round(poller, recorder, config, T0 + timedelta(minutes=i)) for i in range(1, 4)]
        after = _month(engine)
    finally:
        poller.client.close()
        if dark_olt:
            olt_agents.restart(dark_olt)
    assert all(not r[dark_olt] for r in later)  # it really was silent, three rounds: past the 2-poll threshold
    # every round books the whole town as expected, the dark OLT's homes included (as many as it listed)
    assert after["expected_seconds"] == 4 * before["expected_seconds"]
    others_up = [sum(sum(v) for o, v in r.items() if o != dark_olt) for r in later]
    assert after["up_seconds"] == before["up_seconds"] + sum(others_up) * INTERVAL
    # so availability falls by the dark OLT's share of the homes up × the share of the time it was dark
    # (the other OLTs' homes as in the first round: snmpsim serves the same data each round)
    assert others_up == [sum(sum(v) for v in first.values()) - up_homes] * 3
    share = up_homes * INTERVAL / before["expected_seconds"]
    assert after["ratio"] == pytest.approx(before["ratio"] - share * 3 / 4, abs=1e-5)
    assert homes >= up_homes
