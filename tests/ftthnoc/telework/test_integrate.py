"""The integral by hand: small days whose time-weighted means can be checked on paper."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ftthnoc.samples import MetricFamily
from ftthnoc.telework.calendar import WorkingCalendar
from ftthnoc.telework.kpi import Coverage, day_figure, integrate, read_sessions

from .conftest import config, jst

DAY = date(2026, 11, 26)  # a Thursday, 08:30–17:15


def test_three_samples_with_known_durations() -> None:
    # 08:30 10 sessions for 600 s, 08:40 40 for 300 s, 08:45 16 for 900 s (to the gap limit at 09:00):
    # (10·600 + 40·300 + 16·900) / (600 + 300 + 900) = (6000 + 12000 + 14400) / 1800 = 18.0
    cov = integrate(0, 1800, {"a": [(0, 10), (600, 40), (900, 16)]}, gap=900)
    assert cov == Coverage(working_seconds=1800, covered_seconds=1800, session_seconds=32400)
    assert cov.mean_sessions == 18.0
    # Over the whole day the last sample still holds only 900 s: the rest is not covered, not zero.
    whole = integrate(0, 31500, {"a": [(0, 10), (600, 40), (900, 16)]}, gap=900)
    assert (whole.covered_seconds, whole.mean_sessions) == (1800, 18.0)


def test_the_same_day_through_the_calendar_and_a_clock() -> None:
    window = WorkingCalendar(config()).window(DAY)
    assert window is not None
    start = int(window.start.timestamp())
    samples = {"a": [(start, 10), (start + 600, 40), (start + 900, 16)]}
    cfg = config(staff=40)
    at_nine = day_figure(cfg, window, samples, jst(DAY, 9))
    assert (at_nine.working_seconds, at_nine.covered_seconds) == (1800, 1800)
    assert at_nine.mean_sessions == 18.0 and at_nine.remote_share == pytest.approx(18 / 40)
    assert not at_nine.final
    # At 08:50 the last sample holds only until now: (6000 + 12000 + 16·300) / 1200 = 19.0
    at_850 = day_figure(cfg, window, samples, jst(DAY, 8, 50))
    assert (at_850.covered_seconds, at_850.mean_sessions) == (1200, 19.0)
    # At the end of the day 1800 of 31500 s are covered: below half, so no figure (but the mean is kept).
    evening = day_figure(cfg, window, samples, jst(DAY, 18))
    assert evening.final and evening.working_seconds == 31500 and evening.covered_seconds == 1800
    assert evening.mean_sessions == 18.0 and evening.remote_share is None and evening.office_reduction is None


def test_a_sample_before_the_hours_holds_into_them() -> None:
    # -300: 20 holds to 600 (the next sample, within the gap), so [0, 600) at 20, [600, 1200) at 10.
    cov = integrate(0, 1200, {"a": [(-2000, 99), (-300, 20), (600, 10)]}, gap=900)
    assert (cov.covered_seconds, cov.session_seconds) == (1200, 20 * 600 + 10 * 600)
    assert cov.mean_sessions == 15.0


def test_samples_outside_the_hours_do_not_count() -> None:
    cov = integrate(1000, 2000, {"a": [(0, 500), (1000, 5), (2000, 500), (2100, 500)]}, gap=1000)
    assert (cov.covered_seconds, cov.mean_sessions) == (1000, 5.0)


def test_an_outage_of_one_gateway_removes_that_time_for_all() -> None:
    # a: [0, 900) 5, silent, [1200, 1800) 7; b: [0, 900) 3, then silent.
    # Only [0, 900) has both: mean 8 over 900 s — not (5+3)·900 + 7·600 over 1800 s with b as zero.
    cov = integrate(0, 1800, {"a": [(0, 5), (1200, 7)], "b": [(0, 3)]}, gap=900)
    assert (cov.covered_seconds, cov.session_seconds) == (900, 8 * 900)
    assert cov.mean_sessions == 8.0


def test_a_gap_of_exactly_the_limit_is_no_outage() -> None:
    cov = integrate(0, 1800, {"a": [(0, 1), (900, 3)]}, gap=900)
    assert (cov.covered_seconds, cov.mean_sessions) == (1800, 2.0)
    short = integrate(0, 1800, {"a": [(0, 1), (901, 3)]}, gap=900)
    assert short.covered_seconds == 1799


def test_counted_gateways() -> None:
    samples = {"a": [(0, 4)], "b": [(0, 6)], "old": [(-5000, 100)]}
    # By default: every gateway reporting into the hours ("old" went quiet long before: not counted).
    assert integrate(0, 600, samples, gap=900).mean_sessions == 10.0
    # Listed: only those, and a listed gateway without samples means no coverage at all.
    assert integrate(0, 600, samples, gap=900, gateways=["a"]).mean_sessions == 4.0
    assert integrate(0, 600, samples, gap=900, gateways=["a", "c"]).covered_seconds == 0


def test_no_samples_no_working_time() -> None:
    assert integrate(0, 600, {}, gap=900) == Coverage(600, 0, 0)
    assert integrate(600, 600, {"a": [(0, 1)]}, gap=900) == Coverage(0, 0, 0)
    assert Coverage(600, 0, 0).mean_sessions is None


def test_share_is_capped_and_reduction_follows_the_baseline() -> None:
    window = WorkingCalendar(config()).window(DAY)
    assert window is not None
    start = int(window.start.timestamp())
    samples = {"a": [(start + i * 300, 30) for i in range(200)]}
    end = jst(DAY, 18)
    fig = day_figure(config(staff=100, attendance_baseline=0.6), window, samples, end)
    assert fig.remote_share == pytest.approx(0.30)
    assert fig.office_reduction == pytest.approx(0.30 / 0.6)
    assert fig.target_attainment == pytest.approx(0.5 / 0.30)
    crowded = day_figure(config(staff=20), window, samples, end)
    assert crowded.remote_share == 1.0 and crowded.office_reduction == 1.0


def test_coverage_threshold_is_inclusive() -> None:
    window = WorkingCalendar(config()).window(DAY)
    assert window is not None
    start = int(window.start.timestamp())
    half = window.seconds // 2  # 15750 s covered of 31500
    samples = {"a": [(start + i * 750, 10) for i in range(half // 750)]}
    end = window.end + timedelta(hours=1)
    fig = day_figure(config(sample_gap_seconds=750), window, samples, end)
    assert fig.covered_seconds == half and fig.remote_share == pytest.approx(0.10)
    fig = day_figure(config(sample_gap_seconds=750, min_coverage=0.6), window, samples, end)
    assert fig.remote_share is None


def test_read_sessions_counts_only_the_sessions_family() -> None:
    fam = MetricFamily("ftth_vpn_sessions", "sessions")
    fam.add({"gateway": "vpn-a", "protocol": "ipsec"}, 7)
    fam.add({"gateway": "vpn-a", "protocol": "ssl"}, 5)
    fam.add({}, 3)  # no gateway label: the polled target
    fam.add({"gateway": "vpn-b"}, float("nan"))
    other = MetricFamily("ftthnoc_scrape_success", "up")
    other.add({"target": "vpn-a"}, 1)
    assert read_sessions("vpn-x", [other, fam]) == {"vpn-a": 12, "vpn-x": 3}
    assert read_sessions("vpn-x", [other]) is None
