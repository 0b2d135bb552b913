"""Shared fixtures: a snapshot, a real loopback server, and a tiny urllib client."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from exporters.prometheus import ExporterServer, Probe, Snapshot, make_app, make_registry, serve
from ftthnoc.samples import MetricFamily


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def http_get(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Response:
    """GET over a real socket; HTTP errors are returned, not raised, so tests can assert on them."""
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return Response(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return Response(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())


def own_families(olt: str, rx: float = -21.5, errors: float = 0, success: float = 1) -> list[MetricFamily]:
    """The project's own families for one OLT, as the poller would publish them."""
    rx_fam = MetricFamily(
        "ftth_onu_rx_power_dbm", "ONU optical receive power as seen by the OLT.", "gauge", "dbm"
    )
    for onu in ("1", "2"):
        rx_fam.add({"olt": olt, "pon_port": "0/1/0", "onu_id": onu, "district": "山田地区"}, rx)
    ok = MetricFamily("ftthnoc_scrape_success", "1 if the last poll of this target and module worked.")
    ok.add({"target": olt, "module": "huawei_gpon"}, success)
    err = MetricFamily("ftthnoc_scrape_errors_total", "Polls of this target that failed.", "counter")
    err.add({"target": olt, "module": "huawei_gpon"}, errors)
    cause = MetricFamily("ftth_onu_last_down_cause", "Why each ONU last went down.", "info")
    cause.add({"olt": olt, "pon_port": "0/1/0", "onu_id": "1", "cause": "dying_gasp"}, 1)
    return [rx_fam, ok, err, cause]


def if_mib_families(target: str, octets: float = 1234567890) -> list[MetricFamily]:
    """snmp_exporter-named interface families, kept camelCase for dashboard compatibility."""
    octs = MetricFamily("ifHCInOctets", "The total number of octets received on the interface.", "counter")
    octs.add({"target": target, "ifIndex": "1", "ifDescr": "GigabitEthernet0/0/1"}, octets)
    oper = MetricFamily("ifOperStatus", "The current operational state of the interface.")
    oper.add({"target": target, "ifIndex": "1", "ifDescr": "GigabitEthernet0/0/1"}, 1)
    return [octs, oper]


@dataclass
class FakeProbe:
    """Stands in for the poller's probe; records calls and returns or raises what the test says."""

    result: list[MetricFamily] = field(default_factory=list)
    error: BaseException | None = None
    calls: list[tuple[str, list[str], str]] = field(default_factory=list)
    timeouts: list[float | None] = field(default_factory=list)

    def __call__(self, target: str, modules: list[str], auth: str, timeout: float | None = None) -> list[MetricFamily]:
        self.calls.append((target, modules, auth))
        self.timeouts.append(timeout)
        if self.error is not None:
            raise self.error
        return self.result


@pytest.fixture
def snapshot() -> Snapshot:
    return Snapshot()


@pytest.fixture
def fake_probe() -> FakeProbe:
    return FakeProbe()


StartServer = Callable[..., ExporterServer]


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """Start servers on 127.0.0.1:0 and shut every one of them down after the test."""
    running: list[ExporterServer] = []

    def start(snapshot: Snapshot, probe: Probe | None = None, **kwargs: object) -> ExporterServer:
        app = make_app(make_registry(snapshot), probe, **kwargs)  # type: ignore[arg-type]
        server = serve(app, "127.0.0.1", 0)
        running.append(server)
        return server

    yield start
    for server in running:
        server.shutdown()


@pytest.fixture
def server(start_server: StartServer, snapshot: Snapshot, fake_probe: FakeProbe) -> ExporterServer:
    return start_server(snapshot, fake_probe)
