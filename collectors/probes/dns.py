"""DNS checks of the town's name servers, as blackbox_exporter's ``dns`` prober makes them.

One query per target and cycle with dnspython's asyncio API, to the configured server (never the host's
resolver): rcode NOERROR, at least one answer record, and every expected address among the A/AAAA
answers when the target lists some. A truncated UDP answer is asked again over TCP, as a resolver would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from collectors.probes.config import DnsSettings, DnsTarget


@dataclass(slots=True)
class DnsResult:
    """One query of one target. ``reason`` is empty when it succeeded; ``rcode`` None when nothing answered."""

    target: DnsTarget
    success: bool
    reason: str
    seconds: float
    rcode: int | None = None
    answer_rrs: int = 0


async def _ask(target: DnsTarget, timeout: float) -> dns.message.Message:
    query = dns.message.make_query(target.query_name, dns.rdatatype.from_text(target.query_type))
    if not target.recursion_desired:
        query.flags &= ~dns.flags.RD
    if target.transport == "tcp":
        return await dns.asyncquery.tcp(query, target.server, timeout=timeout, port=target.port)
    answer = await dns.asyncquery.udp(query, target.server, timeout=timeout, port=target.port)
    if answer.flags & dns.flags.TC:
        return await dns.asyncquery.tcp(query, target.server, timeout=timeout, port=target.port)
    return answer


async def check(target: DnsTarget, settings: DnsSettings) -> DnsResult:
    """Ask once; never raises for what the server does (that is the result)."""
    start = time.perf_counter()
    try:
        async with asyncio.timeout(settings.timeout_seconds):
            answer = await _ask(target, settings.timeout_seconds)
    except (TimeoutError, dns.exception.Timeout):
        return DnsResult(target, False, f"no answer within {settings.timeout_seconds:g} s",
                         time.perf_counter() - start)
    except ConnectionRefusedError:
        return DnsResult(target, False, "connection refused", time.perf_counter() - start)
    except (OSError, dns.exception.DNSException) as exc:
        return DnsResult(target, False, f"query failed: {type(exc).__name__}: {exc}", time.perf_counter() - start)
    seconds = time.perf_counter() - start
    rcode = answer.rcode()
    rrs = sum(len(rrset) for rrset in answer.answer)
    result = DnsResult(target, False, "", seconds, int(rcode), rrs)
    if rcode != dns.rcode.NOERROR:
        result.reason = f"rcode {dns.rcode.to_text(rcode)}"
        return result
    if rrs == 0:
        result.reason = f"no {target.query_type} record in the answer"
        return result
    if target.expected_addresses:
        got = {rr.to_text() for rrset in answer.answer if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)
               for rr in rrset}
        missing = [a for a in target.expected_addresses if a not in got]
        if missing:
            result.reason = f"expected {', '.join(missing)} not in the answer ({', '.join(sorted(got)) or 'none'})"
            return result
    result.success = True
    return result


async def dns_cycle(targets: Sequence[DnsTarget], settings: DnsSettings) -> list[DnsResult]:
    """Every target once, concurrently; one result each, in order."""
    return list(await asyncio.gather(*(check(t, settings) for t in targets)))
