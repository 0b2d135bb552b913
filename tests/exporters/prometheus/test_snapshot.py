"""Snapshot: atomic replacement per (target, module), merging by name, forgetting targets."""

from __future__ import annotations

import threading

from exporters.prometheus import Snapshot
from ftthnoc.samples import MetricFamily


def fam(name: str, target: str, value: float, typ: str = "gauge") -> MetricFamily:
    f = MetricFamily(name, f"help for {name}", typ)  # type: ignore[arg-type]
    f.add({"target": target}, value)
    return f


def values(families: list[MetricFamily]) -> dict[str, list[tuple[str, float]]]:
    return {f.name: [(s.labels["target"], s.value) for s in f.samples] for f in families}


def test_same_name_from_two_targets_is_one_family() -> None:
    snap = Snapshot()
    snap.publish("olt1", "huawei_gpon", [fam("up", "olt1", 1), fam("temp_celsius", "olt1", 40)])
    snap.publish("olt2", "huawei_gpon", [fam("up", "olt2", 0)])
    got = snap.families()
    assert [f.name for f in got] == ["up", "temp_celsius"]
    assert values(got) == {"up": [("olt1", 1), ("olt2", 0)], "temp_celsius": [("olt1", 40)]}


def test_publish_replaces_the_key_entirely() -> None:
    snap = Snapshot()
    snap.publish("olt1", "m", [fam("up", "olt1", 1), fam("temp_celsius", "olt1", 40)])
    snap.publish("olt1", "m", [fam("up", "olt1", 0)])
    assert values(snap.families()) == {"up": [("olt1", 0)]}


def test_modules_of_one_target_are_separate_keys() -> None:
    snap = Snapshot()
    snap.publish("olt1", "huawei_gpon", [fam("a", "olt1", 1)])
    snap.publish("olt1", "if_mib", [fam("b", "olt1", 2)])
    snap.publish("olt1", "if_mib", [fam("b", "olt1", 3)])
    assert values(snap.families()) == {"a": [("olt1", 1)], "b": [("olt1", 3)]}
    assert snap.keys() == [("olt1", "huawei_gpon"), ("olt1", "if_mib")]


def test_forget_drops_every_module_of_a_target_or_just_one() -> None:
    snap = Snapshot()
    snap.publish("olt1", "huawei_gpon", [fam("a", "olt1", 1)])
    snap.publish("olt1", "if_mib", [fam("b", "olt1", 2)])
    snap.publish("olt2", "if_mib", [fam("b", "olt2", 3)])
    snap.forget("olt1", "if_mib")
    assert snap.keys() == [("olt1", "huawei_gpon"), ("olt2", "if_mib")]
    snap.forget("olt1")
    assert values(snap.families()) == {"b": [("olt2", 3)]}
    snap.forget("no-such-target")  # harmless
    assert len(snap) == 1


def test_publisher_and_reader_cannot_alias_the_stored_families() -> None:
    snap = Snapshot()
    mine = [fam("up", "olt1", 1)]
    snap.publish("olt1", "m", mine)
    mine[0].add({"target": "olt1"}, 99)  # the poller keeps using its own objects
    mine.append(fam("later", "olt1", 5))
    got = snap.families()
    got[0].samples.clear()  # and a reader may modify what it got
    assert values(snap.families()) == {"up": [("olt1", 1)]}


def test_readers_never_see_half_a_publish() -> None:
    snap = Snapshot()
    stop = threading.Event()

    def generation(i: int) -> list[MetricFamily]:
        return [fam(f"m{k}", "olt1", i) for k in range(20)]

    def publisher() -> None:
        i = 0
        while not stop.is_set():
            snap.publish("olt1", "m", generation(i))
            i += 1

    snap.publish("olt1", "m", generation(0))
    thread = threading.Thread(target=publisher)
    thread.start()
    try:
        for _ in range(2000):
            seen = {s.value for f in snap.families() for s in f.samples}
            assert len(seen) == 1
    finally:
        stop.set()
        thread.join()
