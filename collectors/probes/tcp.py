"""TCP connect latency by half-open SYN probes: SYN → SYN-ACK (up) or RST (refused), on a raw socket.

Why raw rather than ``asyncio.open_connection``: a full connect completes a handshake the device's
service then sees (and logs) as a dropped session, costs a file descriptor per port in flight, and
times the kernel's connect rather than the wire. Here scapy builds each SYN (probes are tens to
hundreds per cycle, not thousands of packets) and parses each answer; one ``SOCK_RAW``/``IPPROTO_TCP``
socket, registered with the asyncio loop and filtered in the kernel to our source port, receives them.

The source port is reserved by binding an ordinary TCP socket to it (never listening), so no local
connection can take the same port. When the SYN-ACK arrives the kernel finds no connection on that
port and answers with an RST by itself; we send our own RST too, so that the half-open connection is
torn down even where a host firewall drops the kernel's. A duplicate RST is ignored by the target.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from scapy.compat import raw
from scapy.layers.inet import IP, TCP

from collectors.probes.engine import ProbeError, attach_bpf, enable_rx_timestamps, kernel_time_ns, open_raw

log = logging.getLogger(__name__)

TcpState = Literal["open", "refused", "timeout", "unreachable"]
_SYN, _RST, _ACK = 0x02, 0x04, 0x10


@dataclass(frozen=True, slots=True)
class TcpResult:
    """``open`` (SYN-ACK), ``refused`` (RST), ``timeout`` or ``unreachable`` (the send failed)."""

    address: str
    port: int
    state: TcpState
    seconds: float | None  # SYN to the answer, for open and refused

    @property
    def up(self) -> bool:
        return self.state == "open"


def tcp_dport_filter(port: int) -> list[tuple[int, int, int, int]]:
    """``tcp[2:2] == port``: only answers to our reserved source port reach the socket."""
    return [
        (0xB1, 0, 0, 0),  # ldxb 4*([0]&0xf)
        (0x48, 0, 0, 2),  # ldh [x+2]   destination port
        (0x15, 0, 1, port),  # jeq #port
        (0x06, 0, 0, 0x40000),
        (0x06, 0, 0, 0),
    ]


def source_address(dst: str) -> str:
    """The address the kernel would send from to ``dst`` (a connected UDP socket; nothing is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((dst, 9))
        return str(s.getsockname()[0])


@dataclass(slots=True)
class _Pending:
    address: str
    port: int
    sent_ns: int
    timeout_ns: int
    future: asyncio.Future[tuple[TcpState, float | None]]


class TcpProber:
    """Half-open connect checks; ``async with TcpProber() as p: await p.check([(addr, port), ...])``."""

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self._holder: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._filtered = False
        self.port = 0
        #: (remote address, remote port, acknowledgement number expected) → pending probe
        self._pending: dict[tuple[str, int, int], _Pending] = {}
        self._sources: dict[str, str] = {}

    async def __aenter__(self) -> TcpProber:
        self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        sock = open_raw(socket.IPPROTO_TCP)
        holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            holder.bind(("0.0.0.0", 0))
        except OSError as exc:
            sock.close()
            holder.close()
            raise ProbeError(f"cannot reserve a source port: {exc.strerror}") from None
        self.port = int(holder.getsockname()[1])
        enable_rx_timestamps(sock)
        self._filtered = attach_bpf(sock, tcp_dport_filter(self.port))
        self._sock, self._holder = sock, holder
        self._loop.add_reader(sock.fileno(), self._on_readable)

    def close(self) -> None:
        if self._sock is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None
        if self._holder is not None:
            self._holder.close()
            self._holder = None

    def _source(self, dst: str) -> str:
        src = self._sources.get(dst)
        if src is None:
            src = self._sources[dst] = source_address(dst)
        return src

    def _segment(self, dst: str, dport: int, seq: int, flags: str, ack: int = 0) -> bytes:
        """A TCP segment built by scapy, checksummed over the pseudo-header of the route's source."""
        opts = [("MSS", 1460)] if flags == "S" else []
        pkt = IP(src=self._source(dst), dst=dst) / TCP(sport=self.port, dport=dport, seq=seq, ack=ack,
                                                          flags=flags, window=64240 if flags == "S" else 0,
                                                          options=opts)
        return raw(pkt)[20:]

    def _on_readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        while True:
            try:
                data, anc, _flags, _addr = sock.recvmsg(4096, socket.CMSG_SPACE(16))
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.debug("tcp receive error: %s", exc.strerror)
                return
            at = kernel_time_ns(anc)
            ihl = (data[0] & 0x0F) << 2 if data else 0
            if len(data) < ihl + 20 or int.from_bytes(data[ihl + 2: ihl + 4], "big") != self.port:
                continue  # not an answer to us (only possible when the kernel refused our filter)
            try:
                ip = IP(data)
            except Exception:  # a malformed packet is not ours to worry about
                continue
            if TCP not in ip:
                continue
            seg = ip[TCP]
            if int(seg.dport) != self.port:
                continue
            src, sport, flags, ack = str(ip.src), int(seg.sport), int(seg.flags), int(seg.ack)
            pending = self._pending.pop((src, sport, ack), None)
            if pending is None or pending.future.done():
                continue
            seconds = max(at - pending.sent_ns, 0) / 1e9
            if flags & _SYN and flags & _ACK:
                self._reset(src, sport, ack)
                state: TcpState = "open"
            elif flags & _RST:
                state = "refused"
            else:
                continue
            if at - pending.sent_ns > pending.timeout_ns:
                pending.future.set_result(("timeout", None))
            else:
                pending.future.set_result((state, seconds))

    def _reset(self, dst: str, dport: int, seq: int) -> None:
        if self._sock is None:
            return
        try:
            self._sock.sendto(self._segment(dst, dport, seq, "R"), (dst, 0))
        except OSError as exc:  # the kernel's own RST closes it anyway
            log.debug("tcp reset to %s:%d failed: %s", dst, dport, exc.strerror)

    async def _attempt(self, address: str, port: int, timeout: float) -> tuple[TcpState, float | None]:
        assert self._sock is not None and self._loop is not None
        isn = random.getrandbits(32)
        key = (address, port, (isn + 1) & 0xFFFFFFFF)
        future: asyncio.Future[tuple[TcpState, float | None]] = self._loop.create_future()
        try:
            segment = self._segment(address, port, isn, "S")
            sent = time.time_ns()
            self._sock.sendto(segment, (address, 0))
        except OSError as exc:
            log.debug("tcp syn to %s:%d failed: %s", address, port, exc.strerror)
            return "unreachable", None
        self._pending[key] = _Pending(address, port, sent, int(timeout * 1e9), future)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return "timeout", None
        finally:
            self._pending.pop(key, None)

    async def _probe(self, address: str, port: int, timeout: float, attempts: int) -> TcpResult:
        state: TcpState = "timeout"
        seconds: float | None = None
        for _ in range(attempts):
            state, seconds = await self._attempt(address, port, timeout)
            if state in ("open", "refused"):
                break
        return TcpResult(address, port, state, seconds)

    async def check(self, probes: Sequence[tuple[str, int]], timeout: float = 2.0, attempts: int = 1,
                    rate: float = 2000.0) -> list[TcpResult]:
        """Probe each (address, port) once per attempt until answered; results in the order asked."""
        if self._sock is None:
            raise ProbeError("the TCP prober is not open")
        unique = list(dict.fromkeys(probes))
        tasks: dict[tuple[str, int], asyncio.Task[TcpResult]] = {}
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for n, (address, port) in enumerate(unique):
            tasks[(address, port)] = asyncio.create_task(self._probe(address, port, timeout, attempts))
            ahead = t0 + (n + 1) / rate - loop.time()
            await asyncio.sleep(ahead if ahead > 0.001 else 0)  # let the task send; pace to ``rate``
        done = {k: await t for k, t in tasks.items()}
        return [done[p] for p in probes]
