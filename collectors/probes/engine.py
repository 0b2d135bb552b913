"""The asynchronous raw-socket ICMP echo engine: one socket, thousands of targets, no thread per host.

Why not scapy's ``sr()``: it blocks, sniffs with a thread and costs about a millisecond of CPU per packet
to build and dissect, which is minutes for a town's ONUs. Here scapy builds one echo-request *template*
per engine; each packet is the template with its sequence number and checksum patched in (an
incremental ones'-complement sum), sent on one ``SOCK_RAW``/``IPPROTO_ICMP`` socket that is registered
with the asyncio loop (``loop.add_reader``). A classic BPF filter attached to the socket lets only echo
replies carrying this engine's identifier through, so the kernel drops everyone else's ICMP; replies are
matched to pending requests by (source address, identifier, sequence) from fixed header offsets, and timed
by the kernel's receive timestamp (``SO_TIMESTAMPNS``) so that a busy event loop does not inflate RTTs.
``parse_echo_reply`` dissects with scapy for the cold paths and the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import random
import socket
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from scapy.compat import raw
from scapy.layers.inet import ICMP, IP

from ftthnoc.errors import FtthnocError

log = logging.getLogger(__name__)

# Linux socket options Python does not name (asm-generic values, as on x86-64 and arm64)
SO_ATTACH_FILTER = 26
SO_RCVBUFFORCE = 33
SO_SNDBUFFORCE = 32
SO_TIMESTAMPNS = 35
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
_TS = struct.Struct("@qq")  # struct timespec
_ANC_SIZE = socket.CMSG_SPACE(_TS.size)

ICMP_ECHO_REPLY = 0
ICMP_ECHO_REQUEST = 8


class ProbeError(FtthnocError):
    """A probe could not run at all (no raw-socket permission, no such interface): the cycle reports it as data."""


# ------------------------------------------------------------------------------------------ socket helpers
BpfInstruction = tuple[int, int, int, int]  # (code, jt, jf, k) as in struct sock_filter


def attach_bpf(sock: socket.socket, program: Sequence[BpfInstruction]) -> bool:
    """Attach a classic BPF program; False (and the caller filters in Python) if the kernel refuses."""
    code = b"".join(struct.pack("HBBI", *ins) for ins in program)
    buf = ctypes.create_string_buffer(code)
    fprog = struct.pack("HL", len(program), ctypes.addressof(buf))  # struct sock_fprog, native alignment
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    except OSError as exc:
        log.warning("could not attach a socket filter (%s); filtering in Python", exc.strerror)
        return False
    return True


def enlarge_buffers(sock: socket.socket, size: int) -> None:
    """Bursts of replies must not overflow the receive queue: ask for ``size`` bytes, forcing it as root."""
    for force, plain in ((SO_RCVBUFFORCE, socket.SO_RCVBUF), (SO_SNDBUFFORCE, socket.SO_SNDBUF)):
        try:
            sock.setsockopt(socket.SOL_SOCKET, force, size)
        except OSError:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, plain, size)


def enable_rx_timestamps(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # without it, replies are timed on arrival in the loop
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)


def kernel_time_ns(ancdata: list[tuple[int, int, bytes]]) -> int:
    """The kernel's receive time (CLOCK_REALTIME ns) from ``recvmsg`` ancillary data, or now."""
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS and len(data) >= _TS.size:
            sec, nsec = _TS.unpack_from(data)
            return int(sec) * 1_000_000_000 + int(nsec)
    return time.time_ns()


def open_raw(proto: int) -> socket.socket:
    """A non-blocking raw IPv4 socket, or ProbeError saying why the kernel refused it."""
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
    except PermissionError as exc:
        raise ProbeError(f"raw sockets are not permitted here ({exc.strerror}; needs root or CAP_NET_RAW)") from None
    except OSError as exc:
        raise ProbeError(f"cannot open a raw socket: {exc.strerror}") from None
    sock.setblocking(False)
    return sock


def icmp_echo_filter(ident: int) -> list[BpfInstruction]:
    """``icmp[0] == 0 and icmp[4:2] == ident``, with the IP header length read from the packet."""
    return [
        (0xB1, 0, 0, 0),  # ldxb 4*([0]&0xf)      X = IP header length
        (0x50, 0, 0, 0),  # ldb [x+0]             ICMP type
        (0x15, 0, 3, ICMP_ECHO_REPLY),  # jeq #0, next, drop
        (0x48, 0, 0, 4),  # ldh [x+4]             ICMP identifier
        (0x15, 0, 1, ident),  # jeq #ident, accept, drop
        (0x06, 0, 0, 0x40000),  # ret accept
        (0x06, 0, 0, 0),  # ret drop
    ]


# ------------------------------------------------------------------------------------------ packets
@dataclass(frozen=True, slots=True)
class EchoTemplate:
    """An echo request built once by scapy; ``packet(seq)`` patches the sequence number and checksum."""

    ident: int
    data: bytes  # ICMP header + payload with seq 0; the kernel adds the IP header
    partial_sum: int  # folded ones'-complement sum of ``data`` with the checksum field zero

    @classmethod
    def build(cls, ident: int, payload_bytes: int) -> EchoTemplate:
        payload = bytes((i + 0x10) & 0xFF for i in range(payload_bytes))
        pkt = IP(dst="0.0.0.0") / ICMP(type=ICMP_ECHO_REQUEST, id=ident, seq=0) / payload
        icmp = raw(pkt)[20:]
        zeroed = icmp[:2] + b"\0\0" + icmp[4:]
        if len(zeroed) % 2:
            zeroed += b"\0"
        total = sum(struct.unpack(f"!{len(zeroed) // 2}H", zeroed))
        while total >> 16:
            total = (total & 0xFFFF) + (total >> 16)
        return cls(ident, icmp, total)

    def packet(self, seq: int) -> bytes:
        s = self.partial_sum + seq
        s = (s & 0xFFFF) + (s >> 16)
        csum = ~s & 0xFFFF
        d = self.data
        return d[:2] + bytes((csum >> 8, csum & 0xFF)) + d[4:6] + bytes((seq >> 8, seq & 0xFF)) + d[8:]


@dataclass(frozen=True, slots=True)
class EchoReply:
    source: str
    ident: int
    seq: int


def parse_echo_reply(packet: bytes) -> EchoReply | None:
    """Dissect an IP packet with scapy: the echo reply's source, identifier and sequence, else None."""
    ip = IP(packet)
    if ICMP not in ip or ip[ICMP].type != ICMP_ECHO_REPLY:
        return None
    return EchoReply(str(ip.src), int(ip[ICMP].id), int(ip[ICMP].seq))


# ------------------------------------------------------------------------------------------ the engine
@dataclass(slots=True)
class Burst:
    """The state of one ``burst`` call: per (target, packet) slot the RTT in ns, or -1 while unanswered."""

    count: int
    timeout_ns: int
    rtt_ns: list[int]
    send_errors: list[int]
    keys: list[bytes] = field(default_factory=list)
    outstanding: int = 0
    sending: bool = True
    done: asyncio.Future[None] | None = None


@dataclass(frozen=True, slots=True)
class BurstResult:
    """Per address (in the order asked) the RTT of each packet in seconds, None where it was lost."""

    addresses: tuple[str, ...]
    rtts: tuple[tuple[float | None, ...], ...]
    send_errors: tuple[int, ...]
    elapsed: float


class IcmpEngine:
    """One raw ICMP socket on the running loop; ``burst`` may be called concurrently.

    Use as ``async with IcmpEngine() as engine: result = await engine.burst(addresses, count=20, ...)``.
    Raises ProbeError on opening when raw sockets are not permitted.
    """

    #: The loop sleeps in whole milliseconds (epoll), so packets due within the next 2 ms leave together:
    #: at most 2 ms early, one wake-up per batch instead of one per packet (half the CPU at 1,000 pps).
    SEND_AHEAD = 0.002

    def __init__(self, payload_bytes: int = 56, ident: int | None = None, buffer_bytes: int = 8 << 20) -> None:
        self.ident = ident if ident is not None else (os.getpid() ^ random.getrandbits(16)) & 0xFFFF
        self.template = EchoTemplate.build(self.ident, payload_bytes)
        self._ident_bytes = struct.pack("!H", self.ident)
        self._buffer_bytes = buffer_bytes
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._filtered = False
        #: (source address, identifier, sequence) as 8 raw bytes → (burst, slot, send time ns)
        self._pending: dict[bytes, tuple[Burst, int, int]] = {}
        self._seq: dict[bytes, int] = {}
        self.replies_unmatched = 0

    async def __aenter__(self) -> IcmpEngine:
        self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        sock = open_raw(socket.IPPROTO_ICMP)
        enlarge_buffers(sock, self._buffer_bytes)
        enable_rx_timestamps(sock)
        self._filtered = attach_bpf(sock, icmp_echo_filter(self.ident))
        self._sock = sock
        self._loop.add_reader(sock.fileno(), self._on_readable)

    def close(self) -> None:
        if self._sock is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None

    # -------------------------------------------------------------------------------- receiving
    def _on_readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        recvmsg = sock.recvmsg
        pending = self._pending
        ident = self._ident_bytes
        while True:
            try:
                data, anc, _flags, _addr = recvmsg(4096, _ANC_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. ENOBUFS: keep the engine alive, the packets count as lost
                log.debug("icmp receive error: %s", exc.strerror)
                return
            if not data:
                continue
            ihl = (data[0] & 0x0F) << 2
            if len(data) < ihl + 8 or data[ihl] != ICMP_ECHO_REPLY:
                continue
            if not self._filtered and data[ihl + 4: ihl + 6] != ident:
                continue
            entry = pending.pop(data[12:16] + data[ihl + 4: ihl + 8], None)
            if entry is None:  # late (after its burst ended), duplicated, or another engine's
                self.replies_unmatched += 1
                continue
            burst, slot, sent_ns = entry
            rtt = (kernel_time_ns(anc) if anc else time.time_ns()) - sent_ns
            if rtt <= burst.timeout_ns:
                burst.rtt_ns[slot] = rtt if rtt > 0 else 0
            burst.outstanding -= 1
            if burst.outstanding == 0 and not burst.sending and burst.done is not None and not burst.done.done():
                burst.done.set_result(None)

    # -------------------------------------------------------------------------------- sending
    async def burst(self, addresses: Sequence[str], count: int, period: float, timeout: float,
                    spread: float | None = None) -> BurstResult:
        """Send ``count`` echoes to every address and collect the replies.

        Packet ``k`` to the ``i``-th of ``n`` addresses leaves at ``k * period + i * spread / n`` (spread
        defaults to the period), so the send rate is even over the burst, as smokeping spreads its pings
        and as fping's ``-p``/``-i`` pace them. A packet is lost if no reply comes within ``timeout`` of
        its sending; the burst ends when every packet is answered or timed out. Unreachable or
        non-existent hosts are simply 100 % loss.
        """
        if self._sock is None or self._loop is None:
            raise ProbeError("the ICMP engine is not open")
        loop = self._loop
        sock = self._sock
        n = len(addresses)
        start = time.perf_counter()
        if n == 0 or count == 0:
            return BurstResult(tuple(addresses), tuple(() for _ in addresses), (0,) * n, 0.0)
        state = Burst(count, int(timeout * 1e9), [-1] * (n * count), [0] * n)
        state.done = loop.create_future()
        packed = [socket.inet_aton(a) for a in addresses]
        step = (period if spread is None else spread) / n
        pending = self._pending
        seqs = self._seq
        packet = self.template.packet
        ident = self._ident_bytes
        keys = state.keys
        sendto = sock.sendto
        t0 = loop.time()
        total = n * count
        j = 0
        try:
            while j < total:
                now = loop.time()
                # send everything due within SEND_AHEAD, then sleep to the next one
                horizon = now + self.SEND_AHEAD
                while j < total:
                    k, i = divmod(j, n)
                    if t0 + k * period + i * step > horizon:
                        break
                    addr = packed[i]
                    seq = (seqs.get(addr, -1) + 1) & 0xFFFF
                    seqs[addr] = seq
                    key = addr + ident + bytes((seq >> 8, seq & 0xFF))
                    try:
                        sent = time.time_ns()
                        sendto(packet(seq), (addresses[i], 0))
                    except (BlockingIOError, InterruptedError):
                        seqs[addr] = (seq - 1) & 0xFFFF
                        await asyncio.sleep(0.001)  # the send queue is full: let it drain, then retry
                        break
                    except OSError as exc:  # no route, EPERM from a firewall ...: a lost packet, not an error
                        state.send_errors[i] += 1
                        log.debug("icmp send to %s failed: %s", addresses[i], exc.strerror)
                        j += 1
                        continue
                    pending[key] = (state, i * count + k, sent)
                    keys.append(key)
                    state.outstanding += 1
                    j += 1
                if j < total:
                    k, i = divmod(j, n)
                    delay = t0 + k * period + i * step - loop.time()
                    await asyncio.sleep(delay if delay > 0 else 0)
            state.sending = False
            if state.outstanding > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(state.done), timeout)
        finally:
            state.sending = False
            for key in keys:
                pending.pop(key, None)
        flat = state.rtt_ns
        rtts = tuple(
            tuple(None if v < 0 else v / 1e9 for v in flat[i * count: (i + 1) * count]) for i in range(n)
        )
        return BurstResult(tuple(addresses), rtts, tuple(state.send_errors), time.perf_counter() - start)
