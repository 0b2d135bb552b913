"""``/metrics`` from cached per-target text: each poll's exposition is encoded once, not on every scrape.

Why: a 70,000-ONU prefecture is about a million samples (80 MB of text). Encoding them through
prometheus_client on every scrape cost 5.9 s of CPU a scrape at 35,000 ONUs, most of ``serve``'s core.
The snapshot of one (target, module) changes only when a poll of it ends, so its sample lines are
encoded once per change and in each format a scraper asks for (the text format 0.0.4, OpenMetrics), on
the first scrape after the change; a scrape then only joins cached bytes, family by family:

    for each family name, in the order ``samples.merge`` gives (first seen, targets in publish order):
        its ``# HELP``/``# TYPE`` (``# UNIT``) lines, then every target's cached sample lines

followed by the small live families (consumer health, open incidents), encoded on every scrape. The
result is byte for byte what encoding the merged snapshot through the registry gives (a test holds the
two to each other). Where the layout is not the one this relies on (two targets giving one name two
types, a family whose encoding is more than header and sample lines), the scrape falls back to the full
encoding, still correct.

gzip: each cached block of sample lines also keeps its raw deflate, compressed once and ended with a
sync flush (byte-aligned, not final), so a gzip body is those pieces and the small fresh runs between
them compressed on the spot, one final empty block, and the CRC-32 and length of the whole text: a
valid single-member gzip stream (RFC 1951/1952), decompressing to the same bytes as the plain body.
"""

from __future__ import annotations

import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector, CollectorRegistry

from ftthnoc.samples import MetricFamily, Sample

from .snapshot import Snapshot

__all__ = ["ExpositionCache"]

Encoder = Callable[[Collector], bytes]

#: sample lines shorter than this are compressed with their neighbours on every scrape rather than kept
#: deflated on their own: a sync flush costs a few bytes and the window's context
_MIN_DEFLATED = 2048
#: a format nobody asked for in this long gives its memory back (a person's one ``curl``, say)
_IDLE_FORMAT_SECONDS = 900.0
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no mtime, unknown OS
_FINAL_EMPTY_BLOCK = b"\x03\x00"  # BFINAL=1, fixed Huffman, end of block


class Fallback(Exception):
    """The cached layout cannot reproduce this scrape; encode it in full instead."""


def _deflate(data: bytes) -> bytes:
    """Raw deflate of ``data`` ended with a sync flush: may be followed by any other such piece."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)


class Piece:
    """Cached sample lines of one family of one target, with their deflate made on first gzip use."""

    __slots__ = ("_deflated", "data")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._deflated: bytes | None = None

    def deflated(self) -> bytes:
        if self._deflated is None:
            self._deflated = _deflate(self.data)
        return self._deflated


@dataclass
class _Block:
    """One (target, module)'s families encoded in one format."""

    source: tuple[MetricFamily, ...]  # what the snapshot held when encoded; compared by identity
    order: list[str]  # family names in the source's order, first occurrence
    meta: dict[str, tuple[str, str, str]]  # name → (documentation, type, unit) of the first occurrence
    lines: dict[str, Piece]  # name → sample lines (empty bytes for an empty family)


class _Format:
    """The encoder of one content type and its caches."""

    def __init__(self, encoder: Encoder, text: bool) -> None:
        self.encoder = encoder
        self.text = text
        self.blocks: dict[tuple[str, str], _Block] = {}
        self.heads: dict[tuple[str, str, str, str], bytes] = {}
        self.used = time.monotonic()


class ExpositionCache:
    """Encodes ``snapshot`` per (target, module) and per format once per change; see the module doc."""

    def __init__(self, snapshot: Snapshot, extras: Iterable[Collector], *, timestamps: bool = False) -> None:
        self.snapshot = snapshot
        self.timestamps = timestamps
        self._extras = CollectorRegistry(auto_describe=False)
        for collector in extras:
            self._extras.register(collector)
        self._formats: dict[str, _Format] = {}
        self._lock = threading.Lock()
        #: (target, module) blocks encoded so far, over every format: grows once per poll, not per scrape
        self.encoded = 0

    # ------------------------------------------------------------------ encoding pieces
    def _encode(self, fmt: _Format, family: MetricFamily) -> tuple[bytes, bytes] | None:
        """(header lines, sample lines) of one family in ``fmt``; None for an empty family."""
        from .collector import SnmpCounter, _Fixed, _retype_untyped_as_counter, _translate_one

        metric = _translate_one(family, self.timestamps)
        if metric is None:
            return None
        out = fmt.encoder(_Fixed([metric]))
        if fmt.text and isinstance(metric, SnmpCounter):
            out = _retype_untyped_as_counter(out)
        if not fmt.text:
            if not out.endswith(b"# EOF\n"):
                raise Fallback("OpenMetrics without # EOF")
            out = out[: -len(b"# EOF\n")]
        at = 0
        while out.startswith(b"# ", at):
            at = out.index(b"\n", at) + 1
        head, lines = out[:at], out[at:]
        if not head or b"\n# " in lines or lines.startswith(b"#"):
            raise Fallback(f"family {family.name!r} is more than header and sample lines")
        return head, lines

    def _head(self, fmt: _Format, name: str, meta: tuple[str, str, str]) -> bytes:
        """The header lines of a family: they depend only on name, help, type and unit."""
        key = (name, *meta)
        head = fmt.heads.get(key)
        if head is None:
            doc, kind, unit = meta
            probe = Sample(name + "_bucket" if kind == "histogram" else name, {"le": "+Inf"} if kind == "histogram"
                           else {}, 0.0)
            encoded = self._encode(fmt, MetricFamily(name, doc, kind, unit, [probe]))  # type: ignore[arg-type]
            assert encoded is not None
            head = fmt.heads[key] = encoded[0]
        return head

    def _block(self, fmt: _Format, source: tuple[MetricFamily, ...]) -> _Block:
        block = _Block(source, [], {}, {})
        for family in source:
            encoded = self._encode(fmt, family)
            lines = encoded[1] if encoded is not None else b""
            if family.name in block.lines:  # one name twice in one poll: merge joins them, in order
                if block.meta[family.name][1] != family.type:
                    raise Fallback(f"family {family.name!r} given two types")
                block.lines[family.name] = Piece(block.lines[family.name].data + lines)
            else:
                block.order.append(family.name)
                block.meta[family.name] = (family.documentation, family.type, family.unit)
                block.lines[family.name] = Piece(lines)
        return block

    # ------------------------------------------------------------------ a scrape
    def _format(self, accept_header: str | None) -> tuple[_Format, str]:
        encoder, content_type = choose_encoder(accept_header or "")
        now = time.monotonic()
        for key in [k for k, f in self._formats.items() if now - f.used > _IDLE_FORMAT_SECONDS]:
            del self._formats[key]
        fmt = self._formats.get(content_type)
        if fmt is None:
            fmt = self._formats[content_type] = _Format(encoder, content_type.startswith("text/plain"))
        fmt.used = now
        return fmt, content_type

    def pieces(self, accept_header: str | None) -> tuple[list[bytes | Piece], str]:
        """The body as pieces (cached or fresh) and its content type; raises :class:`Fallback`."""
        from .collector import exposition

        groups = self.snapshot.groups()
        with self._lock:
            fmt, content_type = self._format(accept_header)
            blocks: list[_Block] = []
            for key, source in groups:
                block = fmt.blocks.get(key)
                if block is None or block.source is not source:
                    try:
                        block = self._block(fmt, source)
                    except Fallback:
                        fmt.blocks.pop(key, None)
                        raise
                    fmt.blocks[key] = block
                    self.encoded += 1
                blocks.append(block)
            held = {key for key, _ in groups}
            for key in [k for k in fmt.blocks if k not in held]:  # a target that left the configuration
                del fmt.blocks[key]
            out: list[bytes | Piece] = []
            names: dict[str, tuple[str, str, str]] = {}
            for block in blocks:
                for name in block.order:
                    if name not in names:
                        names[name] = block.meta[name]
                    elif names[name][1] != block.meta[name][1]:
                        raise Fallback(f"family {name!r} has two types across targets")
            for name, meta in names.items():
                lines = [b.lines[name] for b in blocks if name in b.lines and b.lines[name].data]
                if lines:
                    out.append(self._head(fmt, name, meta))
                    out.extend(lines)
        out.append(exposition(self._extras, accept_header)[0])  # live families, and OpenMetrics' # EOF
        return out, content_type

    def body(self, accept_header: str | None, gzipped: bool) -> tuple[bytes, str]:
        """The ``/metrics`` body (gzip-compressed if asked) and its content type."""
        out, content_type = self.pieces(accept_header)
        if not gzipped:
            return b"".join(p.data if isinstance(p, Piece) else p for p in out), content_type
        return gzip_pieces(out), content_type


def gzip_pieces(pieces: list[bytes | Piece]) -> bytes:
    """One gzip member of the pieces' text: cached deflate for big pieces, the rest compressed now."""
    parts = [_GZIP_HEADER]
    pending: list[bytes] = []
    crc, size = 0, 0
    for piece in pieces:
        data = piece.data if isinstance(piece, Piece) else piece
        crc = zlib.crc32(data, crc)
        size += len(data)
        if isinstance(piece, Piece) and len(data) >= _MIN_DEFLATED:
            if pending:
                parts.append(_deflate(b"".join(pending)))
                pending = []
            parts.append(piece.deflated())
        elif data:
            pending.append(data)
    if pending:
        parts.append(_deflate(b"".join(pending)))
    parts.append(_FINAL_EMPTY_BLOCK)
    parts.append(struct.pack("<II", crc, size & 0xFFFFFFFF))
    return b"".join(parts)
