"""``ftthnoc throughput test``: runs the configured schools' tests now, prints and stores them; a failed
test is printed and stored too, and the exit code says so. Traffic goes to loopback only."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner
from sqlalchemy import select

from app.cli.throughput import throughput
from ftthnoc.inventory import db
from ftthnoc.kpi.models import SchoolThroughputTest
from tests.collectors.throughput.test_iperf import loopback_server as loopback_server
from tests.ports import free_port


def configure(tmp_path: Path, port: int) -> tuple[Path, str]:
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    db.upgrade(url)
    cfg = tmp_path / "ftthnoc.yaml"
    cfg.write_text(yaml.safe_dump({"throughput": {
        "server": f"127.0.0.1:{port}", "streams": 2, "seconds": 1, "omit_seconds": 0, "connect_timeout_seconds": 2,
        "schools": {"es-1": {}, "es-2": {"server": f"127.0.0.1:{free_port()}"}}}}))  # fmt: skip
    return cfg, url


def stored(url: str) -> list[tuple[str, str, bool]]:
    engine = db.make_engine(url)
    try:
        with db.session_scope(engine) as s:
            return [(r.school, r.direction, r.bits_per_second is not None)
                    for r in s.scalars(select(SchoolThroughputTest).order_by(SchoolThroughputTest.id))]
    finally:
        engine.dispose()


def test_a_good_school_prints_and_stores_and_exits_0(tmp_path: Path, loopback_server: int) -> None:
    cfg, url = configure(tmp_path, loopback_server)
    result = CliRunner().invoke(throughput, ["test", "es-1", "--config", str(cfg), "--database-url", url])
    assert result.exit_code == 0, result.output
    assert result.output.count("Mbit/s") == 2 and "es-1\tdownload\t" in result.output
    assert stored(url) == [("es-1", "download", True), ("es-1", "upload", True)]


def test_an_unreachable_server_is_stored_as_failed_tests_and_exits_1(tmp_path: Path, loopback_server: int) -> None:
    cfg, url = configure(tmp_path, loopback_server)
    result = CliRunner().invoke(throughput, ["test", "--config", str(cfg), "--database-url", url])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "es-2\tupload\tfailed: iperf3: unable to connect to server: Connection refused" in result.output
    assert stored(url) == [("es-1", "download", True), ("es-1", "upload", True),
                           ("es-2", "download", False), ("es-2", "upload", False)]


def test_a_school_not_configured_is_one_line(tmp_path: Path, loopback_server: int) -> None:
    cfg, url = configure(tmp_path, loopback_server)
    result = CliRunner().invoke(throughput, ["test", "es-9", "--config", str(cfg), "--database-url", url])
    assert result.exit_code == 1 and "not in the throughput section's schools: es-9" in result.output
