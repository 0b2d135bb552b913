"""The exporter over real HTTP on a loopback socket: /metrics, /snmp, landing page, health, errors."""

from __future__ import annotations

import gzip
import html
import re
import socket
import threading
import time

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from exporters.prometheus import ExporterServer, Snapshot
from exporters.prometheus.http import example_query, project_readme
from ftthnoc.errors import ConfigError, SnmpTimeout
from ftthnoc.samples import MetricFamily

from .conftest import FakeProbe, StartServer, http_get, if_mib_families, own_families


def sample_lines(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(name + "{") or line.startswith(name + " ")]


# --- /metrics -------------------------------------------------------------------------------------


def test_metrics_shows_published_values_and_follows_new_publishes(
    server: ExporterServer, snapshot: Snapshot
) -> None:
    assert server.url.startswith("http://127.0.0.1:") and server.server_port > 0
    empty = http_get(server.url + "/metrics")
    assert empty.status == 200 and empty.body == b""
    snapshot.publish("olt1", "huawei_gpon", own_families("olt1", rx=-21.5))
    first = http_get(server.url + "/metrics")
    assert first.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert sample_lines(first.text, "ftth_onu_rx_power_dbm") == [
        'ftth_onu_rx_power_dbm{district="山田地区",olt="olt1",onu_id="1",pon_port="0/1/0"} -21.5',
        'ftth_onu_rx_power_dbm{district="山田地区",olt="olt1",onu_id="2",pon_port="0/1/0"} -21.5',
    ]
    snapshot.publish("olt1", "huawei_gpon", own_families("olt1", rx=-27.0, success=0, errors=1))
    second = http_get(server.url + "/metrics").text
    assert "-21.5" not in second
    assert 'ftth_onu_rx_power_dbm{district="山田地区",olt="olt1",onu_id="1",pon_port="0/1/0"} -27.0' in second
    assert sample_lines(second, "ftthnoc_scrape_success") == [
        'ftthnoc_scrape_success{module="huawei_gpon",target="olt1"} 0.0'
    ]
    assert sample_lines(second, "ftthnoc_scrape_errors_total") == [
        'ftthnoc_scrape_errors_total{module="huawei_gpon",target="olt1"} 1.0'
    ]


def test_two_targets_are_one_family(server: ExporterServer, snapshot: Snapshot) -> None:
    snapshot.publish("olt1", "huawei_gpon", own_families("olt1"))
    snapshot.publish("olt2", "huawei_gpon", own_families("olt2", success=0))
    text = http_get(server.url + "/metrics").text
    assert text.count("# TYPE ftthnoc_scrape_success gauge\n") == 1
    assert sample_lines(text, "ftthnoc_scrape_success") == [
        'ftthnoc_scrape_success{module="huawei_gpon",target="olt1"} 1.0',
        'ftthnoc_scrape_success{module="huawei_gpon",target="olt2"} 0.0',
    ]
    families = {m.name: m for m in parse_text(text)}
    assert len(families["ftth_onu_rx_power_dbm"].samples) == 4
    snapshot.forget("olt2")
    assert "olt2" not in http_get(server.url + "/metrics").text


def test_counters_and_info_over_http(server: ExporterServer, snapshot: Snapshot) -> None:
    snapshot.publish("olt1", "huawei_gpon", own_families("olt1", errors=3))
    snapshot.publish("olt1", "if_mib", if_mib_families("olt1", octets=5000))
    text = http_get(server.url + "/metrics").text
    assert "# TYPE ftthnoc_scrape_errors_total counter\n" in text
    assert "# TYPE ftth_onu_last_down_cause_info gauge\n" in text
    assert sample_lines(text, "ftth_onu_last_down_cause_info") == [
        'ftth_onu_last_down_cause_info{cause="dying_gasp",olt="olt1",onu_id="1",pon_port="0/1/0"} 1.0'
    ]
    assert "# TYPE ifHCInOctets counter\n" in text
    assert sample_lines(text, "ifHCInOctets") == [
        'ifHCInOctets{ifDescr="GigabitEthernet0/0/1",ifIndex="1",target="olt1"} 5000.0'
    ]
    assert "ifHCInOctets_total" not in text


def test_openmetrics_when_asked_for(server: ExporterServer, snapshot: Snapshot) -> None:
    snapshot.publish("olt1", "huawei_gpon", own_families("olt1", errors=2))
    snapshot.publish("olt1", "if_mib", if_mib_families("olt1"))
    # What Prometheus 2.x sends.
    accept = (
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
        "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    )
    resp = http_get(server.url + "/metrics", {"Accept": accept})
    assert resp.headers["content-type"].startswith("application/openmetrics-text; version=1.0.0")
    assert resp.text.endswith("# EOF\n")
    assert "# TYPE ftthnoc_scrape_errors counter\n" in resp.text
    assert 'ftthnoc_scrape_errors_total{module="huawei_gpon",target="olt1"} 2.0\n' in resp.text
    assert "# TYPE ftth_onu_last_down_cause info\n" in resp.text
    names = [m.name for m in parse_openmetrics(resp.text)]
    assert "ifHCInOctets" in names and "ftth_onu_last_down_cause" in names


def test_gzip_when_accepted(server: ExporterServer, snapshot: Snapshot) -> None:
    snapshot.publish("olt1", "huawei_gpon", own_families("olt1"))
    plain = http_get(server.url + "/metrics")
    zipped = http_get(server.url + "/metrics", {"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == plain.body
    refused = http_get(server.url + "/metrics", {"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers


# --- /snmp ----------------------------------------------------------------------------------------


def test_snmp_probes_and_renders(server: ExporterServer, fake_probe: FakeProbe) -> None:
    fake_probe.result = if_mib_families("192.0.2.1:161", octets=42) + own_families("192.0.2.1:161")[1:2]
    resp = http_get(server.url + "/snmp?target=192.0.2.1:161&module=if_mib,huawei_gpon&auth=olt_v3")
    assert resp.status == 200, resp.text
    assert resp.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert fake_probe.calls == [("192.0.2.1:161", ["if_mib", "huawei_gpon"], "olt_v3")]
    assert "# TYPE ifHCInOctets counter\n" in resp.text
    assert sample_lines(resp.text, "ifHCInOctets") == [
        'ifHCInOctets{ifDescr="GigabitEthernet0/0/1",ifIndex="1",target="192.0.2.1:161"} 42.0'
    ]
    assert "ftthnoc_scrape_success{" in resp.text


@pytest.mark.parametrize(
    ("query", "target", "modules"),
    [
        (
            "target=olt-yamada-1.town.example&module=a&module=b,a&auth=x",
            "olt-yamada-1.town.example",
            ["a", "b"],
        ),
        ("target=%5B2001%3Adb8%3A%3A1%5D%3A1161&module=if_mib&auth=x", "[2001:db8::1]:1161", ["if_mib"]),
        ("target=10.0.0.1&module=%E5%AD%A6%E6%A0%A1&auth=x", "10.0.0.1", ["学校"]),
    ],
)
def test_snmp_accepts_names_ipv6_and_repeated_modules(
    server: ExporterServer, fake_probe: FakeProbe, query: str, target: str, modules: list[str]
) -> None:
    assert http_get(server.url + "/snmp?" + query).status == 200
    assert fake_probe.calls == [(target, modules, "x")]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("module=if_mib&auth=a", "missing parameter 'target'"),
        ("target=&module=if_mib&auth=a", "parameter 'target' is empty"),
        ("target=a:161&target=b:161&module=if_mib&auth=a", "parameter 'target' must be given only once"),
        ("target=a%20b:161&module=if_mib&auth=a", "invalid target 'a b:161': expected HOST:PORT"),
        ("target=a:161%0A&module=if_mib&auth=a", "invalid target 'a:161\\n': expected HOST:PORT"),
        ("target=2001:db8::1&module=if_mib&auth=a", "invalid target '2001:db8::1': expected HOST:PORT"),
        ("target=a:0&module=if_mib&auth=a", "invalid target 'a:0': port must be 1-65535"),
        ("target=a:70000&module=if_mib&auth=a", "invalid target 'a:70000': port must be 1-65535"),
        ("target=a:161&auth=a", "missing parameter 'module'"),
        ("target=a:161&module=if_mib,,x&auth=a", "invalid module name ''"),
        ("target=a:161&module=if%2Fmib&auth=a", "invalid module name 'if/mib'"),
        ("target=a:161&module=if_mib", "missing parameter 'auth'"),
        ("target=a:161&module=if_mib&auth=a&auth=b", "parameter 'auth' must be given only once"),
        ("target=a:161&module=if_mib&auth=p%20w", "invalid auth name 'p w'"),
    ],
)
def test_snmp_bad_parameters_are_400_with_one_line(
    server: ExporterServer, fake_probe: FakeProbe, query: str, message: str
) -> None:
    resp = http_get(server.url + "/snmp?" + query)
    assert resp.status == 400
    assert resp.headers["content-type"] == "text/plain; charset=utf-8"
    assert resp.text.startswith(message), resp.text
    assert resp.text.count("\n") == 1 and resp.text.endswith("\n")
    assert fake_probe.calls == []  # refused before touching any device


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (KeyError("no_such_module"), 400, "unknown module or auth: no_such_module\n"),
        (ConfigError("unknown auth 'olt_v9'"), 400, "unknown auth 'olt_v9'\n"),
        (
            SnmpTimeout("192.0.2.1:161", "no answer after 3 tries"),
            500,
            "probe failed: 192.0.2.1:161: no answer after 3 tries\n",
        ),
        (
            RuntimeError("boom\nTraceback (most recent call last): secret"),
            500,
            "probe failed with an internal error (RuntimeError); see the exporter log\n",
        ),
    ],
)
def test_snmp_probe_errors_are_mapped(
    server: ExporterServer, fake_probe: FakeProbe, error: Exception, status: int, body: str
) -> None:
    fake_probe.error = error
    resp = http_get(server.url + "/snmp?target=192.0.2.1:161&module=if_mib&auth=olt_v3")
    assert (resp.status, resp.text) == (status, body)
    assert "Traceback" not in resp.text


def test_snmp_without_a_probe_is_404(start_server: StartServer, snapshot: Snapshot) -> None:
    server = start_server(snapshot, None)
    resp = http_get(server.url + "/snmp?target=a:161&module=m&auth=a")
    assert (resp.status, resp.text) == (404, "multi-target probing is not enabled here\n")


def test_snmp_defaults_like_snmp_exporter(start_server: StartServer, snapshot: Snapshot) -> None:
    probe = FakeProbe()
    server = start_server(snapshot, probe, default_module="if_mib", default_auth="public_v2")
    assert http_get(server.url + "/snmp?target=a:161").status == 200
    assert probe.calls == [("a:161", ["if_mib"], "public_v2")]


def test_a_slow_probe_does_not_block_metrics(start_server: StartServer, snapshot: Snapshot) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow_probe(target: str, modules: list[str], auth: str, timeout: float | None) -> list[MetricFamily]:
        entered.set()
        release.wait(10)
        return if_mib_families(target)

    server = start_server(snapshot, slow_probe)
    snapshot.publish("olt1", "huawei_gpon", own_families("olt1"))
    statuses: list[int] = []
    thread = threading.Thread(
        target=lambda: statuses.append(http_get(server.url + "/snmp?target=a:1&module=m&auth=a").status)
    )
    thread.start()
    try:
        assert entered.wait(5)
        started = time.monotonic()
        assert http_get(server.url + "/metrics").status == 200
        assert time.monotonic() - started < 2
    finally:
        release.set()
        thread.join(10)
    assert statuses == [200]


# --- other pages ----------------------------------------------------------------------------------


JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _text(page: str) -> str:
    """The page's words, tags dropped, on one line."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


def test_landing_page_without_a_target_web_pages_or_readme_says_why(server: ExporterServer) -> None:
    resp = http_get(server.url + "/")
    assert resp.status == 200 and resp.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="ja">' in resp.text and '<a href="metrics">' in resp.text
    words = _text(resp.text)
    assert "no target is configured" in words and "設定に機器がありません" in words  # no example link: why
    assert 'href="snmp?' not in resp.text
    assert "not served by this process" in words and "ftthnoc serve --api" in words
    assert 'href="readme"' not in resp.text and http_get(server.url + "/readme").status == 404


def test_landing_page_is_japanese_first_in_every_line(start_server: StartServer, snapshot: Snapshot,
                                                      fake_probe: FakeProbe) -> None:
    server = start_server(snapshot, fake_probe, example="target=olt1:161&module=if_mib",
                          web_url="http://127.0.0.1:8080", readme="# ftthnoc\n")
    page = http_get(server.url + "/").text
    title = re.search(r"<h1>(.*)</h1>", page)
    assert title and JAPANESE.search(title.group(1).partition(" / ")[0]) and " / exporter" in title.group(1)
    for item in re.findall(r"<li>(.*?)</li>", page, flags=re.S):
        ja, sep, en = _text(item).partition(" / ")
        assert sep and JAPANESE.search(ja) and en.strip(), item  # Japanese, then the English after " / "


def test_landing_page_links_a_working_probe_the_web_pages_and_the_readme(
    start_server: StartServer, snapshot: Snapshot
) -> None:
    probe = FakeProbe(result=if_mib_families("olt1"))
    server = start_server(snapshot, probe, default_auth="public_v2", example="target=olt1%3A161&module=if_mib",
                          web_url="http://127.0.0.1:8080/", readme="# ftthnoc\n\n北広島町\n")
    page = http_get(server.url + "/").text
    links = re.findall(r'href="([^"]+)"', page)
    assert links[:1] == ["metrics"] and "-/healthy" in links
    assert "http://127.0.0.1:8080/" in links and "http://127.0.0.1:8080/docs" in links
    [example] = [html.unescape(link) for link in links if link.startswith("snmp?")]
    resp = http_get(f"{server.url}/{example}")
    assert resp.status == 200 and probe.calls == [("olt1:161", ["if_mib"], "public_v2")]  # the default auth
    readme = http_get(server.url + "/readme")
    assert readme.status == 200 and readme.headers["content-type"] == "text/plain; charset=utf-8"
    assert readme.text == "# ftthnoc\n\n北広島町\n"


def test_landing_page_of_an_exporter_without_probing() -> None:
    from exporters.prometheus.http import _landing

    page = _landing("target=a&module=m", probing=False, web_url=None, readme=False).decode()
    assert 'href="snmp?' not in page and "not enabled in this process" in page


@pytest.mark.parametrize(("targets", "default", "expected"), [
    ([], "public_v2", None),
    # a target on the default auth first (no auth parameter), if_mib when it has it
    ([("10.0.0.1:161", ["huawei_gpon"], "olt_v3"), ("10.0.0.2:161", ["huawei_gpon", "if_mib"], "public_v2")],
     "public_v2", "target=10.0.0.2:161&module=if_mib"),
    # none on the default: the auth is named
    ([("10.0.0.1:161", ["zte_gpon"], "olt_v3")], "public_v2", "target=10.0.0.1:161&module=zte_gpon&auth=olt_v3"),
    ([("olt1", ["if_mib"], "olt_v3")], None, "target=olt1&module=if_mib&auth=olt_v3"),
    ([("[2001:db8::1]:161", ["if_mib"], "public_v2")], "public_v2", "target=[2001:db8::1]:161&module=if_mib"),
    ([("10.0.0.1:161", [], "public_v2")], "public_v2", None),
])
def test_the_example_probe_is_a_configured_target(targets: list[tuple[str, list[str], str]], default: str | None,
                                                  expected: str | None) -> None:
    assert example_query(targets, default) == expected


def test_the_readme_is_the_projects() -> None:
    text = project_readme()
    assert text is not None and text.startswith("# ftthnoc")


def test_healthy(server: ExporterServer) -> None:
    resp = http_get(server.url + "/-/healthy")
    assert (resp.status, resp.body) == (200, b"OK")


def test_unknown_path_and_method(server: ExporterServer) -> None:
    missing = http_get(server.url + "/nope")
    assert (missing.status, missing.text) == (404, "no such page '/nope'\n")
    post = http_get(server.url + "/metrics", method="POST")
    assert post.status == 405 and post.headers["allow"] == "GET, HEAD"
    head = http_get(server.url + "/-/healthy", method="HEAD")
    assert (head.status, head.body, head.headers["content-length"]) == (200, b"", "2")


def test_shutdown_closes_the_port(start_server: StartServer, snapshot: Snapshot) -> None:
    server = start_server(snapshot)
    port = server.server_port
    server.shutdown()
    server.shutdown()  # idempotent
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


# --- concurrency ----------------------------------------------------------------------------------


def generation(i: int) -> dict[str, list[MetricFamily]]:
    """Every value published in generation i is i, so a torn read shows up as mixed values."""
    out: dict[str, list[MetricFamily]] = {}
    for olt in ("olt1", "olt2"):
        fams = own_families(olt, rx=-float(i), errors=i, success=i % 2)
        fams += if_mib_families(olt, octets=i)
        for k in range(10):
            extra = MetricFamily(f"ftth_pon_port_onus_{k}", "filler")
            for port in range(8):
                extra.add({"olt": olt, "pon_port": f"0/1/{port}"}, i)
            fams.append(extra)
        out[olt] = fams
    return out


def test_scrapes_stay_consistent_while_publishing(server: ExporterServer, snapshot: Snapshot) -> None:
    for olt, fams in generation(0).items():
        snapshot.publish(olt, "huawei_gpon", fams)
    stop = threading.Event()
    published = [0]

    def publisher() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            for olt, fams in generation(i).items():
                snapshot.publish(olt, "huawei_gpon", fams)
            published[0] = i

    thread = threading.Thread(target=publisher, daemon=True)
    thread.start()
    try:
        for _ in range(60):
            text = http_get(server.url + "/metrics").text
            families = list(parse_text(text))
            names = [m.name for m in families]
            assert len(names) == len(set(names)) == 16
            for olt in ("olt1", "olt2"):
                gens = set()
                for m in families:
                    for s in m.samples:
                        if s.labels.get("olt", s.labels.get("target")) != olt:
                            continue
                        if m.name == "ftth_onu_rx_power_dbm":
                            gens.add(-s.value)
                        elif m.name in (
                            "ftthnoc_scrape_success",
                            "ftth_onu_last_down_cause_info",
                            "ifOperStatus",
                        ):
                            continue  # i % 2, or constant
                        else:
                            gens.add(s.value)
                assert len(gens) == 1, (olt, gens)
    finally:
        stop.set()
        thread.join(5)
    assert published[0] > 1  # the publisher really ran during the scrapes
