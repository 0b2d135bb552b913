"""The throughput tests' table on every backend under test (SQLite, and PostgreSQL when
``FTTHNOC_TEST_POSTGRES_URL`` is set): the latest-test queries agree, time zones survive the round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from ftthnoc.inventory import db
from ftthnoc.kpi import throughput
from ftthnoc.kpi.throughput import ThroughputResult
from tests.ftthnoc.inventory.conftest import database_url, engine, make_database  # noqa: F401

AT = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)  # 10:30 JST


def test_latest_and_measured_on_each_backend(engine: Engine) -> None:  # noqa: F811
    def r(direction: str, minutes: int, mbps: float | None, error: str | None = None) -> ThroughputResult:
        return ThroughputResult("es-1", direction, AT + timedelta(minutes=minutes), "192.0.2.10:5201", 4, 10.0,  # type: ignore[arg-type]
                                None if mbps is None else mbps * 1e6, error)  # fmt: skip

    throughput.record(engine, [r("download", 0, 150.0), r("upload", 0, 90.0), r("download", 60, 170.25),
                               r("download", 120, None, "iperf3: unable to connect to server: No route to host")])
    with db.session_scope(engine) as s:
        last, good = throughput.latest(s), throughput.latest(s, ok=True)
        got = throughput.measured(s, "es-1")["es-1"]
    assert last["es-1"]["download"]["mbps"] is None and last["es-1"]["download"]["at"] == AT + timedelta(hours=2)
    assert good["es-1"]["download"]["mbps"] == 170.2 and good["es-1"]["upload"]["mbps"] == 90.0
    assert (got["mbps"], got["at"], got["upload_mbps"]) == (170.2, AT + timedelta(hours=1), 90.0)
    assert got["failed"] == {"at": AT + timedelta(hours=2), "direction": "download",
                             "error": "iperf3: unable to connect to server: No route to host"}
