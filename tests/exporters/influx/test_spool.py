"""The disk spool on its own: order across reopen, the bound, crash leftovers, corrupt segments."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporters.influx.spool import CorruptSegment, Spool, SpoolInUse


def batch(i: int, lines: int = 10) -> bytes:
    return "\n".join(f"m,k=v{i} f={j}.0 {i * 1000 + j}" for j in range(lines)).encode()


def drain(spool: Spool) -> list[bytes]:
    out = []
    while (seg := spool.oldest()) is not None:
        out.append(spool.read(seg))
        spool.remove(seg)
    return out


def test_order_survives_reopen(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1 << 20)
    for i in range(5):
        spool.append(batch(i), 10)
    assert (len(spool), spool.points) == (5, 50)
    with pytest.raises(SpoolInUse):  # one writer per directory (two shards must not share one)
        Spool(tmp_path, 1 << 20)
    spool.close()
    again = Spool(tmp_path, 1 << 20)  # a new process on the same directory
    assert (len(again), again.points, again.size_bytes) == (5, 50, spool.size_bytes)
    again.append(batch(5), 10)  # numbering continues after the old segments
    assert drain(again) == [batch(i) for i in range(6)]
    assert again.size_bytes == 0 and not list(tmp_path.glob("*.seg"))


def test_bound_drops_oldest_and_counts(tmp_path: Path) -> None:
    probe = Spool(tmp_path / "probe", 1 << 20)
    probe.append(batch(0), 10)
    one = probe.size_bytes
    spool = Spool(tmp_path / "s", 3 * one + one // 2)  # room for three segments
    for i in range(10):
        spool.append(batch(i), 10)
        assert spool.size_bytes <= spool.max_bytes
        assert sum(p.stat().st_size for p in (tmp_path / "s").glob("*.seg")) <= spool.max_bytes
    assert spool.dropped_points == 70
    assert drain(spool) == [batch(7), batch(8), batch(9)]  # the newest are kept


def test_a_batch_larger_than_the_bound_is_dropped_itself(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 200)
    spool.append(b"m f=1 1", 1)
    spool.append(bytes(range(256)) * 40, 40)  # incompressible, far over the bound
    assert spool.dropped_points == 40 and len(spool) == 1


def test_leftover_temporaries_are_removed(tmp_path: Path) -> None:
    (tmp_path / ".00000000000000000007.tmp").write_bytes(b"torn write")
    spool = Spool(tmp_path, 1 << 20)
    assert len(spool) == 0 and not list(tmp_path.glob(".*.tmp"))


def test_corrupt_segments_are_set_aside(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1 << 20)
    spool.append(batch(1), 10)
    spool.append(batch(2), 10)
    first = spool.oldest()
    assert first is not None
    data = bytearray(first.path.read_bytes())
    data[-3] ^= 0xFF
    first.path.write_bytes(bytes(data))
    with pytest.raises(CorruptSegment):
        spool.read(first)
    assert spool.reject_segment(first, "checksum mismatch") is None
    assert drain(spool) == [batch(2)]
    assert list((tmp_path / "rejected").glob("*.corrupt"))
    spool.close()
    (tmp_path / "00000000000000000099.seg").write_bytes(b"nonsense")  # unreadable header at start-up
    with Spool(tmp_path, 1 << 20) as again:
        assert len(again) == 0


def test_rejected_batches_are_readable_and_bounded(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1 << 20, rejected_keep=3)
    paths = [spool.reject(batch(i), f"HTTP 400: bad {i}") for i in range(5)]
    kept = sorted((tmp_path / "rejected").iterdir())
    assert kept == sorted(paths[-3:])
    assert paths[-1].read_text().splitlines()[:2] == ["# HTTP 400: bad 4", "m,k=v4 f=0.0 4000"]
