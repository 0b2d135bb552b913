"""What the walker needs from a way of talking to one agent: send one PDU, get its decoded answer.

Two transports implement it: ``v2c.V2cTransport`` (the project's BER codec on one UDP socket) and
``v3.V3Transport`` (the same PDU codec inside SNMPv3 messages, USM through ``cryptography``). The walk
itself — bounds, tooBig, loop detection, the breaker, cancellation — exists once, above them, in
``walker.py`` (the shape of snmp_exporter's scraper over gosnmp and of telegraf's ``snmpConnection``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from collectors.snmp.ber import Oid, Response
from ftthnoc.config import Auth, Target


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds of one poll of one (device, module): no agent, however it answers, holds the poller longer.

    ``max_rows``: varbinds of one walked subtree (an agent that keeps answering inside it ends there);
    ``max_requests``: requests of the whole poll; ``max_seconds``: its wall time. ``None``: unbounded
    (only for ``max_seconds``, when the caller bounds the time itself).
    """

    max_rows: int = 100_000
    max_requests: int = 20_000
    max_seconds: float | None = None

    def override(self, max_rows: int | None = None, max_requests: int | None = None,
                 max_seconds: float | None = None) -> Limits:
        return Limits(max_rows if max_rows is not None else self.max_rows,
                      max_requests if max_requests is not None else self.max_requests,
                      max_seconds if max_seconds is not None else self.max_seconds)


@dataclass(frozen=True, slots=True)
class Device:
    """Everything a transport needs to talk to one agent; built from a configured ``Target``."""

    name: str
    host: str
    port: int
    auth: Auth
    max_repetitions: int = 25
    timeout: float = 2.0
    retries: int = 1
    concurrency: int = 2
    #: the target's own bounds, over the module's (``None``: the module's)
    max_rows: int | None = None
    max_requests: int | None = None
    poll_timeout: float | None = None

    @classmethod
    def from_target(cls, target: Target, auth: Auth) -> Device:
        host, port = target.host_port()
        return cls(target.name, host, port, auth, target.max_repetitions, target.timeout, target.retries,
                   target.concurrency, target.max_rows, target.max_requests, target.poll_timeout)

    @property
    def key(self) -> tuple[str, int]:
        return (self.host, self.port)


class Transport(Protocol):
    """One agent behind one security model. ``request`` raises the project's ``SnmpError``s only:
    ``SnmpTimeout`` when no acceptable answer came within timeout × (retries + 1), ``SnmpAuthError``,
    ``SnmpProtocolError`` for answers that are not SNMP; an agent's error-status comes back in the
    response, for the walker to judge (tooBig is not an error to it)."""

    device: Device

    async def request(self, pdu_type: int, oids: Sequence[Oid], max_repetitions: int = 0) -> Response: ...

    def close(self) -> None: ...
