"""The demo's past week of light levels and flaps (``simulator.linehistory``), read back through
``PollHistory.history`` as the household page reads it: each ONU's week agrees with what its simulated agent
answers now (online ones end on today's Rx, weak ones decline toward it, down ones end down), a few ONUs flap,
and the same town gives the same week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ftthnoc.linehistory import HOURS, PollHistory
from simulator.devices import Onu
from simulator.linehistory import FLAP_MIN, SeededLines, seed_line_history
from simulator.model import Town
from simulator.specs import TOWN_CLOCK
from simulator.town import generate_town

NOW = datetime(2026, 12, 4, 15, 20, tzinfo=UTC)


@pytest.fixture(scope="module", params=[2026, 7], ids=lambda seed: f"seed{seed}")
def town(request: pytest.FixtureRequest) -> Town:
    """The demo's town and another draw: nothing here holds for one town by chance."""
    return generate_town(seed=request.param, onus=300)


@pytest.fixture(scope="module")
def seeded(town: Town) -> tuple[PollHistory, SeededLines]:
    history = PollHistory()
    return history, seed_line_history(history, town, NOW)


def key(u: Onu) -> tuple[str, str, int]:
    return u.olt, u.pon_port, u.onu_id


def test_every_onu_has_its_past_week_and_the_current_hour_is_left_to_the_polls(
        town: Town, seeded: tuple[PollHistory, SeededLines]) -> None:
    history, lines = seeded
    onus = list(town.onus())
    assert lines.onus == len(onus) == len(history)
    assert lines.polls == (HOURS - 1) * len(town.olts)
    this_hour = NOW.replace(minute=0, second=0, microsecond=0)
    for u in onus:
        week = history.history(*key(u), NOW)
        assert week.flaps is not None
        assert all(NOW - timedelta(days=7) <= h.at < this_hour for h in week.rx), u.serial


def test_online_onus_wobble_around_todays_reading(town: Town, seeded: tuple[PollHistory, SeededLines]) -> None:
    history, lines = seeded
    steady = [u for u in town.onus() if u.online and not u.weak and key(u) not in lines.flapping]
    assert steady
    for u in steady:
        week = history.history(*key(u), NOW)
        assert u.rx_dbm is not None and len(week.rx) > HOURS // 2, u.serial
        assert all(abs(h.low - u.rx_dbm) <= 0.25 for h in week.rx), (u.serial, u.rx_dbm, week.rx[:3])
        assert len({h.low for h in week.rx}) > 1, "no wobble"


def test_weak_onus_decline_toward_todays_reading(town: Town, seeded: tuple[PollHistory, SeededLines]) -> None:
    history, lines = seeded
    weak = [u for u in town.onus() if u.weak]
    assert weak and sorted(key(u) for u in weak) == sorted(k for k in lines.declining)
    for u in weak:
        rx = history.history(*key(u), NOW).rx
        assert u.rx_dbm is not None and abs(rx[-1].low - u.rx_dbm) <= 0.25
        day = 24
        first_day = sum(h.low for h in rx[:day]) / day
        last_day = sum(h.low for h in rx[-day:]) / day
        assert first_day - last_day >= 1.0, (u.serial, first_day, last_day)


def test_a_few_onus_flap_and_the_others_do_not(town: Town, seeded: tuple[PollHistory, SeededLines]) -> None:
    history, lines = seeded
    assert len(lines.flapping) >= FLAP_MIN
    for k in lines.flapping:
        assert 4 <= (history.history(*k, NOW).flaps or 0) <= 6, k
    # an ONU that is not a flapper went down at most once this week: when its OLT says it last went down
    # (by the town's clock), or it is down now
    for u in town.onus():
        if key(u) in lines.flapping:
            continue
        flaps = history.history(*key(u), NOW).flaps or 0
        assert flaps <= 1, u.serial
        if flaps:
            assert not u.online or (u.last_down_at is not None and TOWN_CLOCK - u.last_down_at <= 8 * 86400), u


def test_onus_down_now_end_the_week_down(town: Town, seeded: tuple[PollHistory, SeededLines]) -> None:
    history, _ = seeded
    down = [u for u in town.onus() if not u.online]
    assert down
    last_hour = NOW.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    for u in down:
        week = history.history(*key(u), NOW)
        # still up in the last seeded hour only if it went down in the last two hours by the town's clock
        if week.rx and week.rx[-1].at >= last_hour:
            assert u.last_down_at is not None and TOWN_CLOCK - u.last_down_at < 2 * 3600, u.serial
        assert (week.flaps or 0) <= 1
    # those down for more than a day (a dying gasp, a lost line; not the feeder cut of the last hours) show it
    long_down = [u for u in down if u.last_down_at is not None and TOWN_CLOCK - u.last_down_at > 86400]
    assert long_down
    for u in long_down:
        assert len(history.history(*key(u), NOW).rx) <= HOURS - 24, u.serial


def test_the_same_town_gives_the_same_week(town: Town, seeded: tuple[PollHistory, SeededLines]) -> None:
    history, lines = seeded
    again = PollHistory()
    assert seed_line_history(again, town, NOW) == lines
    for u in list(town.onus())[::7]:
        assert again.history(*key(u), NOW) == history.history(*key(u), NOW)
