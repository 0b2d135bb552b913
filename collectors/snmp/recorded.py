"""A recorded walk as an agent: GET and GETBULK answered from an ``.snmprec`` file, without a socket.

Two uses. Operators check a module against a device's walk before pointing ftthnoc at the device
(``ftthnoc poll --once --walk FILE``: a vendor's support engineer sends a walk, not access). Tests run
the one walker and the decoder against recordings we did not make (LibreNMS' walks of real devices),
as unit tests; the same recordings are also served by snmpsim over UDP in the process-level tests.

The file format is snmpsim's ``.snmprec`` (``OID|TAG|VALUE``; a tag ending in ``x`` is hex, in ``e`` an
escaped string; a ``:variation`` suffix is read as the plain value). The answers follow RFC 3416 §4.2.3:
GETBULK gives the next ``max-repetitions`` instances in lexicographic order, then endOfMibView.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable, Sequence
from pathlib import Path

from collectors.snmp import ber
from collectors.snmp.ber import Oid, VarBind, parse_oid
from collectors.snmp.transport import Device
from ftthnoc.errors import SnmpError

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "f": "\f",
            "v": "\v", "0": "\0"}


class RecordError(SnmpError):
    """A line of a recorded walk cannot be read."""


def _unescape(text: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "x" and i + 3 < len(text):
                out.append(int(text[i + 2:i + 4], 16))
                i += 4
                continue
            out.extend(_ESCAPES.get(nxt, nxt).encode("latin-1"))
            i += 2
            continue
        out.extend(ch.encode("utf-8"))
        i += 1
    return bytes(out)


def parse_value(tag_text: str, value: str) -> tuple[int, ber.Value]:
    """(BER tag, value) of one ``.snmprec`` record, as the v2c decoder would have given it."""
    tag_text = tag_text.split(":", 1)[0]
    encoding = tag_text[-1] if tag_text[-1:] in ("x", "e") else ""
    tag = int(tag_text[:-1] if encoding else tag_text)
    if tag in (ber.OCTET_STRING, ber.OPAQUE, ber.IP_ADDRESS):
        if encoding == "x":
            raw = bytes.fromhex(value)
        elif encoding == "e":
            raw = _unescape(value)
        elif tag == ber.IP_ADDRESS:
            raw = ipaddress.IPv4Address(value).packed
        else:
            raw = value.encode("utf-8")
        return tag, raw
    if tag == ber.OBJECT_IDENTIFIER:
        return tag, parse_oid(value)
    if tag in (ber.NULL, ber.NO_SUCH_OBJECT, ber.NO_SUCH_INSTANCE, ber.END_OF_MIB_VIEW):
        return tag, None
    if tag == ber.INTEGER or tag in ber.UNSIGNED_TAGS:
        return tag, int(value)
    raise ValueError(f"unknown tag {tag_text!r}")


class RecordedAgent:
    """The varbinds of one recorded walk, in OID order, answering as an agent would."""

    def __init__(self, varbinds: Iterable[VarBind]) -> None:
        rows = sorted(varbinds, key=lambda vb: vb.oid)
        self.oids = [vb.oid for vb in rows]
        self.rows = rows

    @classmethod
    def from_snmprec(cls, path: Path | str) -> RecordedAgent:
        rows: list[VarBind] = []
        for number, line in enumerate(Path(path).read_text(encoding="utf-8", errors="surrogateescape")
                                      .splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            try:
                oid_text, tag_text, value = line.split("|", 2)
                tag, parsed = parse_value(tag_text, value)
                rows.append(VarBind(parse_oid(oid_text), tag, parsed))
            except ValueError as exc:
                raise RecordError(str(path), f"line {number}: not a .snmprec record ({exc})") from None
        return cls(rows)

    def get(self, oid: Oid) -> VarBind:
        i = bisect.bisect_left(self.oids, oid)
        if i < len(self.oids) and self.oids[i] == oid:
            return self.rows[i]
        return VarBind(oid, ber.NO_SUCH_INSTANCE, None)

    def next_after(self, oid: Oid, count: int) -> list[VarBind]:
        i = bisect.bisect_right(self.oids, oid)
        got = self.rows[i:i + count]
        if len(got) < count:
            last = got[-1].oid if got else oid
            got = [*got, VarBind(last, ber.END_OF_MIB_VIEW, None)]
        return got


class RecordedTransport:
    """A ``Transport`` over a ``RecordedAgent``: the walker cannot tell it from a v2c agent."""

    def __init__(self, device: Device, agent: RecordedAgent) -> None:
        self.device = device
        self.agent = agent

    async def request(self, pdu_type: int, oids: Sequence[Oid], max_repetitions: int = 0) -> ber.Response:
        if pdu_type == ber.GET:
            varbinds = [self.agent.get(o) for o in oids]
        elif pdu_type == ber.GET_BULK:
            varbinds = [vb for o in oids for vb in self.agent.next_after(o, max(1, max_repetitions))]
        else:
            raise ValueError(f"PDU type 0x{pdu_type:02x} is not sent by the poller")
        return ber.Response(1, b"", ber.RESPONSE, 0, 0, 0, varbinds)

    def close(self) -> None:
        """Nothing to release."""
