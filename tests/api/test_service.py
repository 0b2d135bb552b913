"""The API beside the poller: ONU state read from the poll snapshot, uvicorn in a thread."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from api.app import create_app
from api.service import ApiServer, SnapshotOnuState, add_demo_users
from ftthnoc.inventory import db
from ftthnoc.samples import MetricFamily
from tests.api.conftest import settings_for


def _families(up: float, rx: float | None) -> list[MetricFamily]:
    fam_up = MetricFamily("ftth_onu_up", "")
    fam_up.add({"olt": "o1", "pon_port": "0/1/0", "onu_id": "3", "district": "chiyoda"}, up)
    fam_rx = MetricFamily("ftth_onu_rx_power_dbm", "")
    if rx is not None:
        fam_rx.add({"olt": "o1", "pon_port": "0/1/0", "onu_id": "3", "district": "chiyoda"}, rx)
    return [fam_up, fam_rx, MetricFamily("ftth_other", "")]


def test_onu_state_comes_from_the_latest_snapshot_and_is_reindexed_when_old() -> None:
    current = {"families": _families(1.0, -21.5)}
    state = SnapshotOnuState(lambda: current["families"], max_age=0.0)
    assert state("o1", "0/1/0", 3) == (True, -21.5)
    assert state("o1", "0/1/0", 4) == (None, None)
    current["families"] = _families(0.0, None)  # the ONU went down: no reading
    assert state("o1", "0/1/0", 3) == (False, None)
    cached = SnapshotOnuState(lambda: current["families"], max_age=3600)
    assert cached("o1", "0/1/0", 3) == (False, None)
    current["families"] = _families(1.0, -20.0)
    assert cached("o1", "0/1/0", 3) == (False, None)  # within max_age the index is kept


def test_the_api_server_thread_serves_health_and_stops(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'api.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    logins = add_demo_users(engine, None)
    assert {role for _n, role, _p in logins} == {"admin", "operator", "support", "viewer"}
    assert add_demo_users(engine, None) == logins  # a second demo start adds nobody twice
    server = ApiServer(create_app(engine, settings=settings_for(tmp_path)), "127.0.0.1", 0).start()
    try:
        body = json.loads(urllib.request.urlopen(f"{server.url}/api/health", timeout=10).read())
        assert body["status"] == "ok"
    finally:
        server.stop()
    assert not server.thread.is_alive()
    engine.dispose()
