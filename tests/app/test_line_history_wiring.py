"""The serve process keeps each ONU's week from its own polls when no Prometheus is configured: the
deployment's fan-out feeds a ``PollHistory`` (what the household page reads under ``serve --api`` and the
demo), and with ``FTTHNOC_PROMETHEUS_URL`` set it keeps none (the page reads the time series instead)."""

from __future__ import annotations

import asyncio
from pathlib import Path

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
