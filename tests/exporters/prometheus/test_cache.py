"""The cached ``/metrics`` (each poll encoded once) against a full encoding of the same registry.

Real polls of the simulated town (snmpsim on loopback) fill the snapshot; every scrape goes over a real
socket in the text format, OpenMetrics (what Prometheus asks for) and gzip, and must be byte for byte
what ``exposition`` gives by collecting the whole registry at that moment. Then one OLT's poll changes
(a feeder cut), then an OLT stops answering (its ``ftthnoc_scrape_success 0``).
"""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import Iterator

import pytest

from collectors.runner import Poller
from exporters.prometheus import ExporterServer, Snapshot, make_app, make_registry, serve
from exporters.prometheus.cache import gzip_pieces
from exporters.prometheus.collector import SnapshotRegistry, SourceCollector, exposition
from ftthnoc.config import Config
from ftthnoc.samples import MetricFamily
from simulator.agents import TownAgents
from simulator.faults import cut_pon_port, restore
from tests.exporters.prometheus.conftest import http_get, if_mib_families, own_families

PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")  # Prometheus 2.42's scrape header
ACCEPTS = (None, PROMETHEUS_ACCEPT)


def live_families() -> list[MetricFamily]:
    """A stand-in for the consumers' own families, encoded on every scrape."""
    fam = MetricFamily("ftthnoc_incidents_open", "Open incidents by kind.")
    fam.add({"kind": "pon_port_down"}, 2)
    return [fam]


@pytest.fixture
def exporter() -> Iterator[tuple[Snapshot, SnapshotRegistry, ExporterServer]]:
    snapshot = Snapshot()
    registry = make_registry(snapshot, [SourceCollector(live_families)])
    with serve(make_app(registry)) as server:
        yield snapshot, registry, server


def assert_same_as_full(registry: SnapshotRegistry, server: ExporterServer) -> dict[str | None, bytes]:
    """Every format and encoding of ``/metrics`` equals a full encoding; returns the plain bodies."""
    bodies: dict[str | None, bytes] = {}
    for accept in ACCEPTS:
        full, content_type = exposition(registry, accept)
        for gz in (False, True):
            headers = {"Accept-Encoding": "gzip"} if gz else {}
            if accept:
                headers["Accept"] = accept
            r = http_get(server.url + "/metrics", headers)
            assert r.status == 200
            assert r.headers["content-type"] == content_type
            assert r.headers.get("content-encoding") == ("gzip" if gz else None)
            body = gzip.decompress(r.body) if gz else r.body
            assert body == full, f"cached /metrics differs from a full encoding (accept {accept!r}, gzip {gz})"
        bodies[accept] = full
    return bodies


def test_cached_output_is_the_full_encoding_and_follows_publishes(
    exporter: tuple[Snapshot, SnapshotRegistry, ExporterServer],
) -> None:
    snapshot, registry, server = exporter
    assert_same_as_full(registry, server)  # nothing polled yet: only the live families
    snapshot.publish("olt1", "huawei_gpon", own_families("olt1"))
    snapshot.publish("olt1", "if_mib", if_mib_families("olt1"))
    snapshot.publish("olt2", "huawei_gpon", [MetricFamily("ftth_onu_rx_power_dbm", "first seen empty"),
                                             *own_families("olt2", rx=-30.25)])
    snapshot.publish("olt2", "if_mib", if_mib_families("olt2", octets=2**64 - 1))
    assert_same_as_full(registry, server)
    before = registry.cache.encoded
    assert_same_as_full(registry, server)
    assert registry.cache.encoded == before, "an unchanged snapshot was encoded again"
    snapshot.publish("olt2", "huawei_gpon", own_families("olt2", success=0, errors=3))
    bodies = assert_same_as_full(registry, server)
    assert registry.cache.encoded == before + len(ACCEPTS), "more than the changed target was encoded again"
    assert b'ftthnoc_scrape_success{module="huawei_gpon",target="olt2"} 0.0\n' in bodies[None]
    snapshot.forget("olt1")
    bodies = assert_same_as_full(registry, server)
    assert b'target="olt1"' not in bodies[None]


def test_two_types_under_one_name_fall_back_to_the_full_encoding(
    exporter: tuple[Snapshot, SnapshotRegistry, ExporterServer],
) -> None:
    snapshot, registry, server = exporter
    gauge = MetricFamily("ftth_x", "a gauge here")
    gauge.add({"olt": "a"}, 1)
    info = MetricFamily("ftth_x", "an info there", "info")
    info.add({"olt": "b", "model": "m"}, 1)
    snapshot.publish("a", "m", [gauge])
    snapshot.publish("b", "m", [info])
    assert_same_as_full(registry, server)


def test_gzip_pieces_decompress_to_their_text() -> None:
    from exporters.prometheus.cache import Piece

    big = b"".join(b'ftth_onu_up{onu_id="%d"} 1.0\n' % i for i in range(5000))
    pieces: list[bytes | Piece] = [b"# HELP a b\n", Piece(big), b"", Piece(b"x 1\n"), Piece(big), b"# EOF\n"]
    text = b"".join(p.data if isinstance(p, Piece) else p for p in pieces)
    packed = gzip_pieces(pieces)
    assert gzip.decompress(packed) == text
    assert len(packed) < len(text) / 5
    assert gzip.decompress(gzip_pieces([])) == b""


# --- real polls of the simulated town ----------------------------------------------------------------


def onu_up(body: bytes, olt: str, port: str, onu_id: int) -> list[bytes]:
    """The values of one ONU's ``ftth_onu_up`` lines in a text exposition."""
    want = (f'olt="{olt}"'.encode(), f'pon_port="{port}"'.encode(), f'onu_id="{onu_id}"'.encode())
    return [line.rsplit(b" ", 1)[1] for line in body.split(b"\n")
            if line.startswith(b"ftth_onu_up{") and all(w in line for w in want)]


def poll(config: Config, snapshot: Snapshot, names: list[str]) -> None:
    """One poll of the named targets, published into the snapshot as ``serve``'s poller does."""
    poller = Poller(config, snapshot.publish)

    async def run() -> None:
        await asyncio.gather(*(poller.poll_target(t) for t in config.targets if t.name in names))

    asyncio.run(run())


def test_cached_output_after_real_polls_a_cut_and_a_dead_olt(
    small_agents: TownAgents, exporter: tuple[Snapshot, SnapshotRegistry, ExporterServer],
) -> None:
    snapshot, registry, server = exporter
    config = Config.model_validate(small_agents.poller_config())
    olts = [o.name for o in small_agents.town.olts]
    poll(config, snapshot, olts)
    bodies = assert_same_as_full(registry, server)
    assert bodies[None].count(b"\nftth_onu_up{") >= 100

    olt = small_agents.town.olts[0]
    port = next(p for p in olt.pon_ports if sum(u.online for u in p.onus) >= 2)
    onu = next(u for u in port.onus if u.online)
    assert onu_up(bodies[None], olt.name, port.name, onu.onu_id) == [b"1.0"]
    try:
        cut_pon_port(small_agents, olt.name, port.name)
        before = registry.cache.encoded
        poll(config, snapshot, [olt.name])
        bodies = assert_same_as_full(registry, server)
        assert onu_up(bodies[None], olt.name, port.name, onu.onu_id) == [b"0.0"]
        changed = sum(1 for key, _ in snapshot.groups() if key[0] == olt.name)
        assert registry.cache.encoded - before == changed * len(ACCEPTS)
    finally:
        restore(small_agents)

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        dead = config.model_copy(update={"targets": [
            t.model_copy(update={"address": f"127.0.0.1:{silent.getsockname()[1]}", "timeout": 0.2, "retries": 0})
            if t.name == olt.name else t for t in config.targets]})
        poll(dead, snapshot, [olt.name])
    bodies = assert_same_as_full(registry, server)
    failed = [b for b in bodies[None].split(b"\n")
              if b.startswith(b"ftthnoc_scrape_success{") and f'"{olt.name}"'.encode() in b]
    assert failed and all(b.endswith(b" 0.0") for b in failed), failed
