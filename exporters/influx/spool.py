"""The disk spool: batches that could not be written yet, kept in order across outages and restarts.

Layout of ``spool_dir``::

    00000000000000000042.seg     one batch per segment, oldest = lowest number
    rejected/20261126T070400Z-00000000000000000042.lp   batches the server refused (4xx), readable text

The spool is an append-only log of segment files: segments are only ever added at the tail and
removed at the head. Each segment is written once to a temporary name, fsynced, renamed into place and
the directory fsynced, so a crash leaves either the whole batch or nothing, never a torn segment (a
segment whose checksum fails anyway is moved to ``rejected/`` rather than blocking the spool). A segment
is deleted only after the server answered 2xx for it; if ftthnoc dies between the answer and the delete,
the batch is sent again at the next start, which is harmless because the same series at the same
timestamp overwrites (see ``writer.py``).

Segment format: ``FTIS`` magic, format version, point count (u32), uncompressed length (u32),
CRC-32 of the uncompressed payload (u32), then the line protocol compressed with zlib level 1: a
spool holds about ten times more polls than its byte bound would raw, at little CPU cost.

**Bound.** ``max_bytes`` bounds the sum of the segment files. When a new batch does not fit, the
*oldest* segments are dropped (their points counted in ``dropped_points``) until it does: in a long
outage the spool keeps the most recent window ending now, which is what operators look at when the
link comes back (did the repair work, what is the state now), and the hole in the history stays one
contiguous stretch at the start of the outage instead of a gap at its end. It is also what Telegraf's
metric buffer does. A single batch larger than the whole bound is dropped itself.
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CorruptSegment", "Segment", "Spool", "SpoolInUse"]

log = logging.getLogger(__name__)

_MAGIC = b"FTIS"
_VERSION = 1
_HEADER = struct.Struct(">4sBIII")  # magic, version, points, raw length, crc32
_SUFFIX = ".seg"


class SpoolInUse(RuntimeError):
    """Another writer (another ftthnoc process, e.g. a second shard) holds the spool directory."""


class CorruptSegment(Exception):
    """A segment whose header or checksum does not match: moved aside, never retried."""


@dataclass(frozen=True, slots=True)
class Segment:
    seq: int
    path: Path
    size: int
    points: int


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """Ordered, bounded, crash-safe segments on disk. Thread-safe (one lock; every call is short)."""

    def __init__(self, directory: Path | str, max_bytes: int, *, rejected_keep: int = 50, fsync: bool = True) -> None:
        if max_bytes <= 0:
            raise ValueError("spool max_bytes must be positive")
        self.directory = Path(directory)
        self.rejected_dir = self.directory / "rejected"
        self.max_bytes = max_bytes
        self.rejected_keep = rejected_keep
        self._fsync = fsync
        self._lock = threading.RLock()
        self._segments: deque[Segment] = deque()
        self._bytes = 0
        self._points = 0
        self.dropped_points = 0
        self.directory.mkdir(parents=True, exist_ok=True)
        # one writer per directory: two interleaving their segment numbers would scramble the order
        self._lock_file = (self.directory / ".lock").open("a+")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock_file.close()
            raise SpoolInUse(f"influx spool {self.directory} is in use by another writer; give each poller "
                             "its own FTTHNOC_INFLUX_SPOOL_DIR") from None
        self._load()

    def close(self) -> None:
        """Release the directory for another writer (the kernel does it too if the process dies)."""
        with self._lock:
            if not self._lock_file.closed:
                self._lock_file.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ state
    @property
    def size_bytes(self) -> int:
        """Bytes of the segment files (what ``max_bytes`` bounds)."""
        with self._lock:  # never between a segment's removal and its bytes' (a reader on another thread)
            return self._bytes

    @property
    def points(self) -> int:
        with self._lock:
            return self._points

    def __len__(self) -> int:
        with self._lock:
            return len(self._segments)

    def _load(self) -> None:
        """Read what a previous run left: leftover temporaries go, segments are indexed in order."""
        for tmp in self.directory.glob(".*.tmp"):  # a write the crash interrupted: never acknowledged
            tmp.unlink(missing_ok=True)
        found: list[Segment] = []
        for path in self.directory.glob("*" + _SUFFIX):
            try:
                seq = int(path.stem)
                with path.open("rb") as fh:
                    head = fh.read(_HEADER.size)
                magic, version, points, _, _ = _HEADER.unpack(head)
                if magic != _MAGIC or version != _VERSION:
                    raise ValueError("bad header")
                found.append(Segment(seq, path, path.stat().st_size, points))
            except (ValueError, struct.error, OSError) as exc:
                log.error("influx spool: unreadable segment %s (%s), moved to rejected/", path.name, exc)
                self._move_rejected(path, "unreadable segment")
        found.sort(key=lambda s: s.seq)
        self._segments.extend(found)
        self._bytes = sum(s.size for s in found)
        self._points = sum(s.points for s in found)
        self._next_seq = (found[-1].seq + 1) if found else 1
        if found:
            log.info("influx spool: %d points in %d segments (%d bytes) to replay from %s",
                     self._points, len(found), self._bytes, self.directory)

    # ------------------------------------------------------------------ writing
    def append(self, payload: bytes, points: int) -> int:
        """Store one batch at the tail (durably); returns the points dropped to respect the bound."""
        raw = payload
        body = zlib.compress(raw, 1)
        blob = _HEADER.pack(_MAGIC, _VERSION, points, len(raw), zlib.crc32(raw)) + body
        with self._lock:
            dropped = 0
            if len(blob) > self.max_bytes:
                log.warning("influx spool: a batch of %d points (%d bytes) exceeds the whole spool bound; dropped",
                            points, len(blob))
                self.dropped_points += points
                return points
            while self._segments and self._bytes + len(blob) > self.max_bytes:
                dropped += self._drop_oldest()
            seq = self._next_seq
            self._next_seq += 1
            path = self.directory / f"{seq:020d}{_SUFFIX}"
            tmp = self.directory / f".{seq:020d}.tmp"
            with tmp.open("wb") as fh:
                fh.write(blob)
                fh.flush()
                if self._fsync:
                    os.fsync(fh.fileno())
            os.replace(tmp, path)
            if self._fsync:
                _fsync_dir(self.directory)
            self._segments.append(Segment(seq, path, len(blob), points))
            self._bytes += len(blob)
            self._points += points
            if dropped:
                self.dropped_points += dropped
                log.warning("influx spool: bound of %d bytes reached, dropped the oldest %d points",
                            self.max_bytes, dropped)
            return dropped

    def _drop_oldest(self) -> int:
        seg = self._segments.popleft()
        seg.path.unlink(missing_ok=True)
        self._bytes -= seg.size
        self._points -= seg.points
        return seg.points

    # ------------------------------------------------------------------ reading
    def oldest(self) -> Segment | None:
        with self._lock:
            return self._segments[0] if self._segments else None

    def read(self, seg: Segment) -> bytes:
        """The uncompressed line protocol of a segment; :class:`CorruptSegment` if it does not check."""
        try:
            data = seg.path.read_bytes()
            magic, version, _, length, crc = _HEADER.unpack_from(data)
            raw = zlib.decompress(data[_HEADER.size:])
        except (OSError, struct.error, zlib.error) as exc:
            raise CorruptSegment(f"{seg.path.name}: {exc}") from exc
        if magic != _MAGIC or version != _VERSION or len(raw) != length or zlib.crc32(raw) != crc:
            raise CorruptSegment(f"{seg.path.name}: checksum mismatch")
        return raw

    def remove(self, seg: Segment) -> None:
        """Forget a segment the server accepted (or that was moved aside). No-op if already dropped."""
        with self._lock:
            if self._segments and self._segments[0].seq == seg.seq:
                self._segments.popleft()
            elif seg in self._segments:
                self._segments.remove(seg)
            else:
                return  # dropped by the bound meanwhile
            seg.path.unlink(missing_ok=True)
            self._bytes -= seg.size
            self._points -= seg.points

    # ------------------------------------------------------------------ rejected batches
    def reject(self, payload: bytes, reason: str, seq: int | None = None) -> Path:
        """Keep a refused batch as readable text in ``rejected/`` (the newest ``rejected_keep`` files)."""
        with self._lock:
            self.rejected_dir.mkdir(exist_ok=True)
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            if seq is None:
                seq = self._next_seq
                self._next_seq += 1
            path = self.rejected_dir / f"{stamp}-{seq:020d}.lp"
            header = "".join(f"# {line}\n" for line in reason.splitlines() or [""])
            path.write_bytes(header.encode("utf-8") + payload + b"\n")
            self._trim_rejected()
            return path

    def reject_segment(self, seg: Segment, reason: str) -> Path | None:
        """Move a spooled segment's batch to ``rejected/`` and out of the spool."""
        try:
            payload = self.read(seg)
        except CorruptSegment:
            with self._lock:
                self._move_rejected(seg.path, reason)
                self.remove(seg)
            return None
        path = self.reject(payload, reason, seg.seq)
        self.remove(seg)
        return path

    def _move_rejected(self, path: Path, reason: str) -> None:
        self.rejected_dir.mkdir(exist_ok=True)
        target = self.rejected_dir / (path.name + ".corrupt")
        try:
            os.replace(path, target)
        except OSError:
            path.unlink(missing_ok=True)
        self._trim_rejected()

    def _trim_rejected(self) -> None:
        files = sorted(self.rejected_dir.iterdir(), key=lambda p: p.stat().st_mtime_ns)
        for old in files[: max(0, len(files) - self.rejected_keep)]:
            old.unlink(missing_ok=True)
