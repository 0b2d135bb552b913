"""The shards' heartbeats (``ftthnoc.pollers``) on a migrated SQLite database: a shard is silent after two of
its intervals without a completed poll, its targets then read unknown; a re-shard forgets the old split."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ftthnoc.consumers import Poll
from ftthnoc.inventory import db
from ftthnoc.inventory.models import PollerShard
from ftthnoc.pollers import Heartbeat, polling
from ftthnoc.shard import Shard

T0 = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


def db_time(row: PollerShard | None) -> datetime:
    assert row is not None
    t = row.last_poll_at
    return t if t.tzinfo else t.replace(tzinfo=UTC)  # SQLite gives naive UTC back


def test_a_silent_shards_targets_read_unknown_and_a_reshard_forgets_the_old_split(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    sessions = db.session_factory(engine)
    now = [T0]
    beats = {i: Heartbeat(sessions, Shard(i, 2), [f"olt-{i}a", f"olt-{i}b"], 60.0, clock=lambda: now[0])
             for i in (0, 1)}
    with sessions() as s:
        who = polling(s, T0 + timedelta(seconds=119))
    assert who.polled_by == {"olt-0a": "0/2", "olt-0b": "0/2", "olt-1a": "1/2", "olt-1b": "1/2"}
    assert who.silent == {} and {who.state(t) for t in who.polled_by} == {"polled"}
    assert who.state("elsewhere") == "unsharded"

    # shard 0 goes on polling (a beat at most 4 times per interval), shard 1 says nothing more
    for second in (16, 20):
        now[0] = T0 + timedelta(seconds=second)
        beats[0].observe_poll(Poll("olt-0a", "huawei_gpon", [], now[0]))
    with sessions() as s:  # 20 s is under a quarter interval (15 s) after 16 s: not written
        assert db_time(s.get(PollerShard, "0/2")) == T0 + timedelta(seconds=16)
    now[0] = T0 + timedelta(seconds=100)
    beats[0].observe_poll(Poll("olt-0a", "huawei_gpon", [], now[0]))
    with sessions() as s:
        who = polling(s, T0 + timedelta(seconds=121))
    assert sorted(who.silent) == ["olt-1a", "olt-1b"]
    assert who.state("olt-1a") == "unknown" and who.state("olt-0a") == "polled"
    assert who.silent["olt-1b"].reason() == "nobody polls it (shard 1/2 silent since 2026-12-04 03:00:00 UTC)"
    with sessions() as s:
        assert polling(s, T0 + timedelta(seconds=100 + 121)).silent.keys() == {"olt-0a", "olt-0b", "olt-1a", "olt-1b"}

    # re-sharded to 3: the 2-shard rows go, and until then the newest count's rows are the ones read
    now[0] = T0 + timedelta(seconds=300)
    Heartbeat(sessions, Shard(0, 3), ["olt-0a"], 60.0, clock=lambda: now[0])
    with sessions() as s:
        who = polling(s, now[0])
    assert who.polled_by == {"olt-0a": "0/3"} and who.silent == {}
    engine.dispose()
