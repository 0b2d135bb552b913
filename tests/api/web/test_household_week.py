"""The household page's week per ONU (flaps and the light-level sparkline against the PON class's limits),
from the in-process history fed by polls as the poller publishes them, and what the page says when the
time-series store does not answer (a sentence and the store's words apart, status 200) or when no
history is kept."""

from __future__ import annotations

import re
import socket
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.app import create_app
from ftthnoc.consumers import Poll
from ftthnoc.linehistory import PollHistory, PrometheusHistory
from ftthnoc.samples import MetricFamily
from tests.api.conftest import settings_for
from tests.api.web.test_household import ONU, snapshot
from tests.api.web.test_household import app as app
from tests.api.web.test_household import families as families
from tests.api.web.test_pages import login_as
from tests.api.web.visible_text import english_words, visible_text

PAGE = "/support/households/HH-000001"


def feed_week(history: PollHistory, now: datetime, *, drops: int, rx: float = -21.0) -> None:
    """HH-000001's ONU polled every 15 minutes for a week, down for one poll ``drops`` times, its light
    fading 1 dB over the week."""
    polls = 7 * 24 * 4
    down_at = {polls * (k + 1) // (drops + 1) for k in range(drops)}
    for i in range(polls):
        at = now - timedelta(minutes=15 * (polls - 1 - i))
        up, light = MetricFamily("ftth_onu_up", ""), MetricFamily("ftth_onu_rx_power_dbm", "")
        down = i in down_at
        up.add(ONU, 0.0 if down else 1.0)
        if not down:
            light.add(ONU, rx - i / polls)
        history.observe_poll(Poll("olt-chiyoda-1", "huawei_gpon", [up, light], at))


def week_block(html: str) -> str:
    found = re.search(r'<div class="line-week[^"]*" id="week-1".*?</div>', html, re.S)
    assert found, "no week block for the first ONU"
    return found.group(0)


def test_the_week_shows_flaps_and_the_light_against_the_class_limits(client: TestClient, engine: Engine,
                                                                     app: FastAPI,
                                                                     families: list[MetricFamily]) -> None:  # fmt: skip
    families[:] = snapshot(up=1.0, rx=-22.0)
    history = PollHistory()
    feed_week(history, datetime.now(UTC), drops=5)
    app.state.line_history = history
    login_as(client, engine, "support")
    page = client.get(PAGE + "?lang=ja").text
    block = week_block(page)
    assert 'data-state="shown"' in block and 'data-flaps="5"' in block
    assert "過去7日間の切断：5 回" in block
    assert "<svg" in block and 'class="chart rx-week"' in block
    assert len(re.findall(r'<rect class="band"', block)) == 7 * 24  # one bar an hour
    assert 'class="limit-warning"' in block and 'class="limit-critical"' in block
    assert "破線：警告 -25.0 dBm" in block and "点線：重大 -27.0 dBm" in block  # B+
    assert "7日前" in block and "現在" in block and "再起動すると消えます" in block
    assert not english_words(visible_text(page, "ja")), english_words(visible_text(page, "ja"))
    english = week_block(client.get(PAGE + "?lang=en").text)
    assert "Went down 5 times in the last 7 days" in english and "dashed: warning -25.0 dBm" in english


def test_a_week_without_readings_says_so(client: TestClient, engine: Engine, app: FastAPI,
                                         families: list[MetricFamily]) -> None:  # fmt: skip
    families[:] = snapshot(up=0.0)
    history = PollHistory()
    now = datetime.now(UTC)
    for _ in range(3):  # seen only down
        up = MetricFamily("ftth_onu_up", "")
        up.add(ONU, 0.0)
        history.observe_poll(Poll("olt-chiyoda-1", "huawei_gpon", [up], now))
    app.state.line_history = history
    login_as(client, engine, "support")
    block = week_block(client.get(PAGE).text)
    assert 'data-flaps="0"' in block and "この期間の受光レベルの記録はありません" in block and "<svg" not in block


def test_an_unreachable_store_is_a_sentence_never_a_500(client: TestClient, engine: Engine, app: FastAPI,
                                                        families: list[MetricFamily]) -> None:  # fmt: skip
    families[:] = snapshot(up=1.0, rx=-22.0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    app.state.line_history = PrometheusHistory(f"http://127.0.0.1:{port}", timeout=2)
    login_as(client, engine, "support")
    response = client.get(PAGE)
    assert response.status_code == 200
    page = response.text
    block = week_block(page)
    assert 'data-state="unavailable"' in block and "過去7日間の履歴を読めません" in block
    # the store's own words, apart from ours and marked as English
    assert re.search(rf'<samp class="detail" lang="en" translate="no">http://127.0.0.1:{port} did not answer', block)
    assert "回線は正常です" in page  # the line's state now is still there
    assert not english_words(visible_text(page, "ja"))
    english = client.get(PAGE + "?lang=en").text
    assert "The last 7 days cannot be read" in week_block(english)


def test_without_a_history_the_page_says_none_is_kept(client: TestClient, engine: Engine,
                                                      families: list[MetricFamily]) -> None:  # fmt: skip
    families[:] = snapshot(up=1.0, rx=-22.0)
    login_as(client, engine, "support")
    block = week_block(client.get(PAGE).text)
    assert 'data-state="off"' in block and "この環境では回線の履歴を記録していません" in block


def test_the_prometheus_url_setting_makes_the_reader(tmp_path: Path, engine: Engine) -> None:
    app = create_app(engine, settings=settings_for(tmp_path, prometheus_url="http://127.0.0.1:9090/"))
    assert isinstance(app.state.line_history, PrometheusHistory)
    assert app.state.line_history.url == "http://127.0.0.1:9090"
    assert create_app(engine, settings=settings_for(tmp_path)).state.line_history is None
