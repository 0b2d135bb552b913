"""One iperf3 client run, as a subprocess with ``--json``: the receiver's bits per second, or its error.

iperf3 is the measurement (its server is the town's ``iperf3 -s``); this module only builds the command
line, bounds the run in time and reads iperf3's JSON. Every way it can fail (not installed, the server
unreachable or busy, a run that hangs, output that is not JSON) comes back as a ``ThroughputResult``
with ``error`` set in one line, never as an exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ftthnoc.kpi.throughput import Direction, ThroughputResult, clip_error

#: seconds allowed beyond the test itself (start-up, connect, the final exchange of results)
MARGIN_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Iperf3Run:
    """What one run asks: where to, which way, how many streams, for how long, and how to start iperf3 at
    the school's probe point (``command``: a prefix such as ``ssh probe@school`` or ``ip netns exec x``)."""

    host: str
    port: int = 5201
    streams: int = 4
    seconds: float = 10.0
    omit_seconds: float = 1.0
    connect_timeout_seconds: float = 5.0
    bind: str | None = None
    command: tuple[str, ...] = ()
    iperf3: str = "iperf3"
    #: cap of the whole test (Mbit/s, shared by the streams; iperf3 --bitrate): None measures what the line
    #: carries, as the MEXT figure wants; the demo emulates each school's line on loopback with it
    bitrate_mbps: float | None = None
    #: seconds allowed beyond the test itself before the run is killed
    margin_seconds: float = MARGIN_SECONDS

    @property
    def server(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def argv(self, direction: Direction) -> list[str]:
        return [*self.command, self.iperf3, "--client", self.host, "--port", str(self.port), "--json",
                "--parallel", str(self.streams), "--time", f"{self.seconds:g}", "--omit", f"{self.omit_seconds:g}",
                "--connect-timeout", str(max(1, round(self.connect_timeout_seconds * 1000))),
                *(["--reverse"] if direction == "download" else []),
                *(["--bind", self.bind] if self.bind else []),
                *(["--bitrate", f"{self.bitrate_mbps * 1e6 / self.streams:.0f}"] if self.bitrate_mbps
                  else [])]  # fmt: skip

    @property
    def timeout(self) -> float:
        return self.seconds + self.omit_seconds + self.connect_timeout_seconds + self.margin_seconds


def parse(stdout: str, stderr: str = "", returncode: int | None = 0) -> tuple[float | None, str | None]:
    """(bits per second received, None) from iperf3's ``--json`` output, or (None, the error)."""
    try:
        data: Any = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        said = stderr.strip() or stdout.strip()
        return None, clip_error(f"iperf3 exited {returncode} without a JSON report"
                                + (f": {said}" if said else ""))  # fmt: skip
    if data.get("error"):
        return None, clip_error(f"iperf3: {data['error']}")
    try:
        bps = float(data["end"]["sum_received"]["bits_per_second"])
    except (KeyError, TypeError, ValueError):
        return None, "iperf3's report has no received total (end.sum_received)"
    if returncode not in (0, None):
        return None, clip_error(f"iperf3 exited {returncode}" + (f": {stderr.strip()}" if stderr.strip() else ""))
    return bps, None


async def run_iperf3(run: Iperf3Run, school: str, direction: Direction,
                     now: datetime | None = None) -> ThroughputResult:  # fmt: skip
    """Run one test; the result carries the rate or the error (see the module's docstring)."""
    started = now or datetime.now(UTC)

    def result(bps: float | None, error: str | None) -> ThroughputResult:
        return ThroughputResult(school, direction, started, run.server, run.streams, run.seconds, bps, error)

    argv = run.argv(direction)
    try:  # its own process group: a timeout kills the prefix (ssh, ip netns exec) and iperf3 together
        proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                                    start_new_session=True)  # fmt: skip
    except OSError as exc:  # FileNotFoundError: not installed (or the command prefix is not)
        return result(None, clip_error(f"cannot start {argv[0]}: {exc.strerror or exc}"))
    talk = asyncio.ensure_future(proc.communicate())
    try:
        done, _ = await asyncio.wait({talk}, timeout=run.timeout)
    except asyncio.CancelledError:
        await _kill(proc, talk)  # stopping the service must not leave iperf3 running at the school
        raise
    if not done:
        await _kill(proc, talk)
        return result(None, f"iperf3 did not finish within {run.timeout:g} s")
    out, err = talk.result()
    bps, error = parse(out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), proc.returncode)
    return result(bps, error)


async def _kill(proc: asyncio.subprocess.Process, talk: asyncio.Future[tuple[bytes, bytes]]) -> None:
    """Kill the run's process group and wait (bounded) for its pipes to close."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    done, _ = await asyncio.wait({talk}, timeout=5.0)
    if not done:
        talk.cancel()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(proc.wait(), timeout=5.0)


__all__: Sequence[str] = ("Iperf3Run", "parse", "run_iperf3")
