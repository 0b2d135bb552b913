"""The household page for a household on an OLT another poller shard polls (issue #16): its ONU's up and
Rx come from the shared time-series store with the reading's age; a silent shard's OLT says nobody polls
it, a store that does not answer (or holds no reading) says so, on a 200 page, in Japanese and English;
an ONU on the process's own OLT keeps its snapshot's word and the store is not asked.

The store here is a ``LiveStore`` of ours (the protocol is this code's, not a network one); the real
Prometheus, shards and PostgreSQL are in ``tests/app/test_prefecture_shards.py``."""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from api.app import create_app
from api.service import SnapshotOnuState
from api.services import lines
from api.services.onus import Live
from ftthnoc.config import default_thresholds
from ftthnoc.inventory import db
from ftthnoc.inventory.models import PollerShard
from ftthnoc.livestore import HistoryUnavailable, StoreReading
from ftthnoc.samples import MetricFamily
from tests.api.conftest import settings_for
from tests.api.web.test_household import ONU, headline, snapshot
from tests.api.web.test_pages import login_as
from tests.api.web.visible_text import english_words, visible_text

KEY = (ONU["olt"], ONU["pon_port"], int(ONU["onu_id"]))
#: how old the store's reading is when the test hands it over
AGE = 42.0


@dataclass
class FakeStore:
    """The shared store's latest readings as ``PrometheusLatest`` gives them, or its failure; it records
    which OLTs each request asked about."""

    readings: dict[tuple[str, str, int], StoreReading] = field(default_factory=dict)
    failure: str | None = None
    lookback_seconds: int = 900
    asked: list[set[str]] = field(default_factory=list)

    def latest(self, olts: Collection[str], now: datetime | None = None) -> dict[tuple[str, str, int], StoreReading]:
        self.asked.append(set(olts))
        if self.failure is not None:
            raise HistoryUnavailable(self.failure)
        return dict(self.readings)


@pytest.fixture
def families() -> list[MetricFamily]:
    return []


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def app(engine: Engine, tmp_path: Path, families: list[MetricFamily], store: FakeStore) -> FastAPI:
    """The API of a shard that polls another OLT only (HH-000001's is another shard's)."""
    app = create_app(engine, settings=settings_for(tmp_path), onu_state=SnapshotOnuState(lambda: families, 0.0))
    app.state.live_store = store
    app.state.own_olts = frozenset({"olt-elsewhere-1"})
    return app


@pytest.fixture
def support(client: TestClient, engine: Engine) -> Iterator[TestClient]:
    login_as(client, engine, "support")
    yield client


def _page(client: TestClient, lang: str) -> str:
    response = client.get(f"/support/households/HH-000001?lang={lang}")
    text: str = response.text
    assert response.status_code == 200, text[-2000:]
    return text


def _untranslated(page: str) -> list[str]:
    return english_words(visible_text(page))


def _age(page: str) -> float:
    m = re.search(r'id="line-age" data-age="([0-9.]+)"', page)
    assert m, page
    return float(m.group(1))


def test_another_shards_onu_reads_the_store_with_its_age(support: TestClient, store: FakeStore) -> None:
    store.readings[KEY] = StoreReading(True, -19.5, datetime.now(UTC) - timedelta(seconds=AGE))
    page = _page(support, "ja")
    assert headline(page) == "回線は正常です" and "line-up" in page
    assert "-19.50 dBm" in page and "基準内" in page
    age = _age(page)
    assert age >= AGE  # never younger than the reading handed over: its own time, not the request's
    assert f"{age:.0f} 秒前の値" in page
    assert store.asked == [{ONU["olt"]}]
    assert _untranslated(page) == []
    english = _page(support, "en")
    assert headline(english) == "The line works"
    assert f"as of {_age(english):.0f} s ago" in english
    # a down reading: down, from the store, as old as it is
    store.readings[KEY] = StoreReading(False, None, datetime.now(UTC) - timedelta(seconds=AGE))
    down = _page(support, "ja")
    assert "line-down" in down and headline(down).startswith("回線が停止しています") and 'id="rx-1"' not in down
    assert _age(down) >= AGE


def test_a_store_that_does_not_answer_says_so_never_a_value(support: TestClient, store: FakeStore) -> None:
    store.failure = "connection refused"
    page = _page(support, "ja")
    assert headline(page) == "現在の回線の状態はわかりません" and "line-unknown" in page
    assert "時系列データベースが応答しないため" in page and "connection refused" in page
    assert 'id="rx-1"' not in page and 'id="line-age"' not in page
    assert _untranslated(page) == []
    english = _page(support, "en")
    assert headline(english) == "Line state unknown now"
    assert "The time-series store does not answer" in english
    store.failure = None  # it answers, with nothing of this ONU in its lookback
    empty = _page(support, "ja")
    assert headline(empty) == "現在の回線の状態はわかりません"
    assert "時系列データベースに直近 900 秒間のこの ONU の値がありません" in empty
    assert "in the last 900 s" in _page(support, "en")


def test_a_silent_shards_olt_says_nobody_polls_it(support: TestClient, store: FakeStore, engine: Engine) -> None:
    store.readings[KEY] = StoreReading(True, -19.5, datetime.now(UTC) - timedelta(seconds=AGE))
    since = datetime.now(UTC) - timedelta(hours=1)
    with db.session_scope(engine) as s:
        s.add(PollerShard(shard="1/2", shard_index=1, shard_count=2, interval_seconds=5.0, last_poll_at=since,
                          targets=[ONU["olt"]]))  # fmt: skip
    page = _page(support, "ja")
    assert headline(page) == "現在の回線の状態はわかりません" and 'id="rx-1"' not in page  # not the store's last value
    assert "この OLT を監視しているポーラーがありません（シャード 1/2 が " in page
    assert _untranslated(page) == []
    english = _page(support, "en")
    assert "Nobody polls it (shard 1/2 silent since " in english
    assert store.asked == []  # a silent shard's OLT is not asked of the store


def test_the_own_olts_onu_keeps_the_snapshots_word(support: TestClient, store: FakeStore, app: FastAPI,
                                                   families: list[MetricFamily]) -> None:  # fmt: skip
    app.state.own_olts = frozenset({ONU["olt"]})
    store.readings[KEY] = StoreReading(False, None, datetime.now(UTC))
    assert headline(_page(support, "ja")) == "監視データがありません"  # no poll yet: not the store's word
    families[:] = snapshot(up=1.0, rx=-19.5)
    page = _page(support, "ja")
    assert headline(page) == "回線は正常です" and 'id="line-age"' not in page and "秒前の値" not in page
    assert store.asked == []


def test_the_own_olts_snapshot_reads_unknown_once_its_shard_is_silent_on_the_page_and_in_the_api(
    support: TestClient, store: FakeStore, app: FastAPI, engine: Engine, families: list[MetricFamily]
) -> None:
    """This process's own poller stopped an hour ago (its heartbeat): its snapshot is that old. The page and
    ``/api/onus`` say the same, unknown and why, not the snapshot's up."""
    app.state.own_olts = frozenset({ONU["olt"]})
    families[:] = snapshot(up=1.0, rx=-19.5)
    assert headline(_page(support, "ja")) == "回線は正常です"  # fresh: the snapshot's word
    with db.session_scope(engine) as s:
        s.add(PollerShard(shard="1/2", shard_index=1, shard_count=2, interval_seconds=5.0,
                          last_poll_at=datetime.now(UTC) - timedelta(hours=1), targets=[ONU["olt"]]))  # fmt: skip
    page = _page(support, "en")
    assert "Nobody polls it (shard 1/2 silent since " in page and 'id="rx-1"' not in page
    with db.session(engine) as s:
        status = lines.status(s, lambda *_: (True, -19.5), "HH-000001", default_thresholds())
    assert status.state == "unknown" and status.onus[0].line.unknown is not None
    response = support.get(f"/api/onus?olt={ONU['olt']}&pon_port={ONU['pon_port']}")
    assert response.status_code == 200, response.text
    [onu] = [o for o in response.json()["items"] if o["onu_id"] == int(ONU["onu_id"])]
    assert (onu["live"], onu["up"]) == ("unknown", None)
    assert onu["live_reason"].startswith("nobody polls it (shard 1/2 silent since ")
    assert store.asked == []


def test_lines_status_takes_the_snapshot_first_then_the_store(engine: Engine) -> None:
    """``lines.status`` itself: a snapshot's reading wins over the store's; without ``live`` the store is
    never asked (the page as before shards)."""
    store = FakeStore({KEY: StoreReading(False, None, datetime.now(UTC))})
    with db.session_scope(engine) as s:
        polled = lines.status(s, lambda *_: (True, -19.5), "HH-000001", default_thresholds(), Live(store))
        assert polled.state == "up" and polled.age_seconds is None and polled.onus[0].line.source is None
        alone = lines.status(s, None, "HH-000001", default_thresholds())
        assert alone.state == "not_polled"
        assert store.asked == []
        read = lines.status(s, None, "HH-000001", default_thresholds(), Live(store))
        assert read.state == "down" and read.onus[0].line.source == "store" and read.age_seconds is not None
        assert store.asked == [{ONU["olt"]}]
