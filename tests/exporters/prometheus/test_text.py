"""The direct text writer against prometheus_client's, byte for byte: the town's families and generated ones."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from exporters.prometheus.collector import render
from exporters.prometheus.text import go_float, render_text
from ftthnoc.samples import MetricFamily, Sample

from .conftest import if_mib_families, own_families


def test_the_families_of_a_poll_render_as_prometheus_client_renders_them() -> None:
    hist = MetricFamily("ftthnoc_probe_icmp_response_duration_seconds", "RTTs.", "histogram", "seconds")
    for le, n in (("0.001", 3), ("0.01", 9), ("+Inf", 10)):
        hist.samples.append(Sample(hist.name + "_bucket", {"target": "a", "le": le}, n))
    hist.samples += [Sample(hist.name + "_sum", {"target": "a"}, 0.05),
                     Sample(hist.name + "_count", {"target": "a"}, 10)]
    info = MetricFamily("ftth_onu_info", "ONU serial.", "info")
    info.add({"olt": "o", "serial": 'HWTC-"A\\1\n'}, 1)
    counter = MetricFamily("ftthnoc_scrape_errors_total", "Errors.\nTwo lines \\ here.", "counter")
    counter.add({"target": "t", "module": "m"}, 3)
    empty = MetricFamily("ftth_empty", "Nothing.")
    families = [*own_families("olt1"), *if_mib_families("olt1"), hist, info, counter, empty]
    assert render_text(families) == render(families)
    stamped = MetricFamily("ftth_onu_up", "Up.")
    stamped.add({"olt": "o"}, 1, timestamp=1_767_000_000.123)
    assert render_text([stamped], timestamps=True) == render([stamped], timestamps=True)


NAMES = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,12}", fullmatch=True)
VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**63), 2**64))
LABELS = st.dictionaries(NAMES.filter(lambda n: not n.startswith("__")), st.text(max_size=12), max_size=4)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(["gauge", "counter", "info"]), name=NAMES, doc=st.text(max_size=30),
       rows=st.lists(st.tuples(LABELS, VALUES), max_size=5))
def test_generated_families_render_as_prometheus_client_renders_them(
    kind: str, name: str, doc: str, rows: list[tuple[dict[str, str], float]]
) -> None:
    if kind == "info" and not name.endswith("_info"):
        name += "_info"
    family = MetricFamily(name, doc, kind)  # type: ignore[arg-type]
    for labels, value in rows:
        family.add(labels, value)
    assert render_text([family]) == render([family])


def test_go_float() -> None:
    assert [go_float(v) for v in (1.0, -2.5, 1e6, 123456789.0, 0.1, math.inf, -math.inf)] == [
        "1.0", "-2.5", "1e+06", "1.23456789e+08", "0.1", "+Inf", "-Inf"]
    assert go_float(math.nan) == "NaN"
