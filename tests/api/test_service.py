"""The API beside the poller: ONU state read from the poll snapshot, uvicorn in a thread, and which
proxy's X-Forwarded-For it believes (over real HTTP on loopback)."""

from __future__ import annotations

import errno
import json
import socket
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from api.app import create_app
from api.service import ApiServer, SnapshotOnuState, add_demo_users, start_api
from api.services.onus import NOT_POLLED
from ftthnoc.config import Config
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


def test_the_snapshot_also_gives_a_lines_last_down_cause_and_time() -> None:
    labels = {"olt": "o1", "pon_port": "0/1/0", "onu_id": "3", "district": "chiyoda"}
    cause = MetricFamily("ftth_onu_last_down_cause", "", "info")
    cause.add({**labels, "cause": "dying_gasp"}, 1.0)
    down = MetricFamily("ftth_onu_last_down_timestamp_seconds", "")
    down.add(labels, 1_795_000_000.0)
    state = SnapshotOnuState(lambda: [*_families(0.0, None), cause, down], max_age=0.0)
    line = state.line("o1", "0/1/0", 3)
    assert (line.polled, line.up, line.rx_dbm, line.cause) == (True, False, None, "dying_gasp")
    assert line.down_at == datetime.fromtimestamp(1_795_000_000, UTC)
    assert state.line("o1", "0/1/0", 4) == NOT_POLLED and state("o1", "0/1/0", 3) == (False, None)


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
    assert server.thread is not None and not server.thread.is_alive()
    engine.dispose()


def test_a_taken_port_is_refused_at_once_with_its_errno(tmp_path: Path) -> None:
    """The demo falls back to a free port on ``EADDRINUSE`` (another demo or test bound the default between
    its check and the bind): the error must carry that errno, not a timeout without a reason."""
    url = f"sqlite:///{tmp_path / 'api.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        server = ApiServer(create_app(engine, settings=settings_for(tmp_path)), "127.0.0.1", port)
        with pytest.raises(OSError) as refused:
            server.start()
    assert refused.value.errno == errno.EADDRINUSE
    assert server.thread is None  # nothing left running
    engine.dispose()


# ------------------------------------------------------------------------- proxy headers, for real
def _login_status(base: str, name: str, forwarded_for: str) -> int:
    body = json.dumps({"name": name, "password": "wrong password"}).encode()
    request = urllib.request.Request(f"{base}/api/login", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def _served(engine: Engine, tmp_path: Path, trusted: tuple[str, ...]) -> ApiServer:
    """The API as ``ftthnoc serve --api`` starts it (``start_api``), on a free loopback port."""
    settings = settings_for(tmp_path, api_trusted_proxies=trusted)
    return start_api(engine, Config(), lambda: [], "127.0.0.1", 0, settings=settings)


def test_forwarded_for_from_loopback_does_not_reset_the_login_limit(engine: Engine, tmp_path: Path) -> None:
    """Without trusted proxies (the default) uvicorn must not take X-Forwarded-For from loopback: six
    failed logins from 127.0.0.1 with a new forwarded address and a new name each time are one address."""
    server = _served(engine, tmp_path, ())
    try:
        answers = [_login_status(server.url, f"guess-{i}", f"198.51.100.{i}") for i in range(6)]
    finally:
        server.stop()
    assert answers == [401] * 5 + [429]


def test_a_trusted_proxys_forwarded_for_is_the_client(engine: Engine, tmp_path: Path) -> None:
    """With the loopback proxy trusted, each forwarded address is its own client: rotating them is six
    clients (no 429), and one of them failing six times is throttled."""
    server = _served(engine, tmp_path, ("127.0.0.1",))
    try:
        rotating = [_login_status(server.url, f"guess-{i}", f"198.51.100.{i}") for i in range(6)]
        one = [_login_status(server.url, f"other-{i}", "192.0.2.7") for i in range(6)]
    finally:
        server.stop()
    assert rotating == [401] * 6
    assert one == [401] * 5 + [429]
