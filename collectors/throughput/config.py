"""The ``throughput:`` section: the town's measurement server, when to test, and each school's probe point.

Example (``ftthnoc.yaml``)::

    throughput:
      server: 192.0.2.10            # the town's iperf3 -s (HOST or HOST:PORT; port 5201 by default)
      streams: 4                    # parallel TCP streams
      seconds: 10                   # per direction, after --omit seconds of slow start
      schedule:                     # JST; the default: weekdays 09:00-15:00, each school once an hour
        days: [mon, tue, wed, thu, fri]
        start: "09:00"
        end: "15:00"
        every_minutes: 60
      schools:
        chiyoda-es: {bind: 10.20.1.5}                           # the probe point is this host, on the school's LAN
        oasa-es: {command: [ssh, -o, BatchMode=yes, probe@10.20.2.5]}   # iperf3 runs on the school's own probe
        geihoku-jhs: {server: 192.0.2.11, schedule: {start: "10:30", end: "12:00"}}

Only the schools listed are tested (a school without a probe point has nothing to test from).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from collectors.throughput.iperf import Iperf3Run
from ftthnoc.config import split_host_port
from ftthnoc.errors import ConfigError
from ftthnoc.timezone import JST

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_PORT = 5201


class Schedule(BaseModel):
    """When a school is tested: on ``days``, between ``start`` and ``end`` (JST), every ``every_minutes``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
    start: time = time(9, 0)
    end: time = time(15, 0)
    every_minutes: float = Field(60.0, ge=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> Schedule:
        if self.end <= self.start:
            raise ValueError("schedule end must be after its start (JST, the same day)")
        return self

    def open_at(self, now: datetime) -> bool:
        """Is ``now`` (any time zone) inside the window?"""
        local = now.astimezone(JST)
        return WEEKDAYS[local.weekday()] in self.days and self.start <= local.time().replace(tzinfo=None) < self.end


class SchoolProbe(BaseModel):
    """A school's probe point and what it overrides of the town's defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: run iperf3 through this prefix (``ssh …``, ``ip netns exec …``); empty: on this host
    command: tuple[str, ...] = ()
    #: source address of the test (iperf3 --bind): this host's address on the school's network
    bind: str | None = None
    server: str | None = None
    streams: int | None = Field(None, ge=1, le=128)
    schedule: Schedule | None = None
    #: cap the test at this rate (Mbit/s, all streams together): only to emulate a line (the demo)
    bitrate_mbps: float | None = Field(None, gt=0)


class ThroughputConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    server: str = Field(min_length=1)
    streams: int = Field(4, ge=1, le=128)
    seconds: float = Field(10.0, ge=1.0, le=120.0)
    omit_seconds: float = Field(1.0, ge=0.0, le=10.0)
    connect_timeout_seconds: float = Field(5.0, gt=0.0, le=60.0)
    iperf3: str = "iperf3"
    #: seconds after start before the first test: the first SNMP polls go first (a test loads the CPU and
    #: the link)
    start_delay_seconds: float = Field(60.0, ge=0.0)
    schedule: Schedule = Field(default_factory=Schedule)
    schools: dict[str, SchoolProbe] = Field(default_factory=dict)

    @field_validator("server")
    @classmethod
    def _server(cls, v: str) -> str:
        _address(v)
        return v

    @model_validator(mode="after")
    def _school_servers(self) -> ThroughputConfig:
        for probe in self.schools.values():
            if probe.server is not None:
                _address(probe.server)
        return self

    def schedule_of(self, school: str) -> Schedule:
        probe = self.schools.get(school)
        return probe.schedule if probe is not None and probe.schedule is not None else self.schedule

    def run_for(self, school: str) -> Iperf3Run:
        """The iperf3 run of ``school`` (the town's defaults where its probe point does not say)."""
        probe = self.schools.get(school) or SchoolProbe()
        host, port = _address(probe.server or self.server)
        return Iperf3Run(host=host, port=port, streams=probe.streams or self.streams, seconds=self.seconds,
                         omit_seconds=self.omit_seconds, connect_timeout_seconds=self.connect_timeout_seconds,
                         bind=probe.bind, command=probe.command, iperf3=self.iperf3,
                         bitrate_mbps=probe.bitrate_mbps)  # fmt: skip


def _address(value: str) -> tuple[str, int]:
    try:
        host, port = split_host_port(value, DEFAULT_PORT)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    if not host or port == 0:
        raise ValueError(f"bad measurement server {value!r}: HOST or HOST:PORT (port 1-65535)")
    return host, port
