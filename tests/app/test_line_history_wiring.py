"""The serve process keeps each ONU's week from its own polls when no Prometheus is configured: the
deployment's fan-out feeds a ``PollHistory`` (what the household page reads under ``serve --api`` and the
demo), and with ``FTTHNOC_PROMETHEUS_URL`` set it keeps none (the page reads the time series instead). The demo
(``app.cli.demo.demo_line_seed``) fills it with the simulated town's past week before the first poll; ``serve``
(``build`` without ``line_seed``) starts it empty."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.cli.demo import demo_line_seed
from app.wiring import build
from ftthnoc.config import Config
from ftthnoc.linehistory import PollHistory
from ftthnoc.settings import Settings
from simulator.agents import TownAgents


def test_the_deployment_keeps_the_week_from_its_polls(small_agents: TownAgents, tmp_path: Path) -> None:
    config = Config.model_validate(small_agents.poller_config(interval_seconds=3600))
    d = build(config, Settings(data_dir=tmp_path), None)
    try:
        assert isinstance(d.line_history, PollHistory) and d.line_history in d.fanout.polls
        asyncio.run(d.poller.run(asyncio.Event(), cycles=1))
        readings = {(s.labels["olt"], s.labels["pon_port"], int(s.labels["onu_id"])): s.value
                    for f in d.snapshot.families() if f.name == "ftth_onu_rx_power_dbm" for s in f.samples}  # fmt: skip
        assert readings and len(d.line_history) >= len(readings)
        for (olt, port, onu), rx in list(readings.items())[:20]:
            week = d.line_history.history(olt, port, onu)
            assert [(h.low, h.high) for h in week.rx] == [(round(rx, 2), round(rx, 2))]
            assert week.flaps == 0
    finally:
        d.close()


def test_with_a_prometheus_url_the_deployment_keeps_no_week(small_agents: TownAgents, tmp_path: Path) -> None:
    config = Config.model_validate(small_agents.poller_config(interval_seconds=3600))
    d = build(config, Settings(data_dir=tmp_path, prometheus_url="http://127.0.0.1:9090"), None)
    try:
        assert d.line_history is None
        assert not any(isinstance(c, PollHistory) for c in d.fanout.polls)
    finally:
        d.close()


def test_the_demo_seeds_the_past_week_and_the_first_poll_continues_it(small_agents: TownAgents, tmp_path: Path
                                                                      ) -> None:
    """Before any poll every ONU of the town has a week with more than one hourly point; one real poll of the
    simulated agents then adds the current hour under the same keys (no ONU the seed missed or named wrongly),
    and counts no flap the town did not have."""
    config = Config.model_validate(small_agents.poller_config(interval_seconds=3600))
    d = build(config, Settings(data_dir=tmp_path), None, line_seed=demo_line_seed(small_agents.town))
    try:
        assert d.line_history is not None
        onus = list(small_agents.town.onus())
        seeded = len(d.line_history)
        assert seeded == len(onus)
        before = {(u.olt, u.pon_port, u.onu_id): d.line_history.history(u.olt, u.pon_port, u.onu_id) for u in onus}
        online = [k for u, k in zip(onus, before, strict=True) if u.online]
        assert online and all(len(before[k].rx) > 1 for k in online)
        assert any(before[k].flaps for k in online), "no flapping ONU in the seeded week"
        asyncio.run(d.poller.run(asyncio.Event(), cycles=1))
        readings = {(s.labels["olt"], s.labels["pon_port"], int(s.labels["onu_id"])): s.value
                    for f in d.snapshot.families() if f.name == "ftth_onu_rx_power_dbm" for s in f.samples}  # fmt: skip
        assert readings and set(readings) <= set(before)
        assert len(d.line_history) == seeded, "the poll found ONUs the seed did not name as the poller does"
        for key, rx in readings.items():
            week = d.line_history.history(*key)
            assert len(week.rx) == len(before[key].rx) + 1 and week.rx[-1].low == round(rx, 2), key
            assert week.flaps == before[key].flaps, key  # up before and now: no transition
    finally:
        d.close()


def test_serve_seeds_nothing(small_agents: TownAgents, tmp_path: Path) -> None:
    """``build`` as ``serve`` calls it: no ONU has a point before the first poll."""
    config = Config.model_validate(small_agents.poller_config(interval_seconds=3600))
    d = build(config, Settings(data_dir=tmp_path), None)
    try:
        assert d.line_history is not None and len(d.line_history) == 0
        u = next(iter(small_agents.town.onus()))
        assert d.line_history.history(u.olt, u.pon_port, u.onu_id).rx == []
    finally:
        d.close()
