"""HTTP(S) checks of the town's web services, as blackbox_exporter's ``http`` prober makes them.

One GET per target and cycle with httpx (its own client per target: no connection is reused between
cycles, so every cycle times a fresh connect and TLS handshake and reads the certificate the server
presents now). The result says whether the service answered as expected — a status in the expected set,
the body matching ``body_regex`` when given, a certificate that verified — and why not when it did not,
in words an operator can act on (``status 500 not in 2xx``, ``connection refused``).

Phases come from httpcore's ``trace`` extension (cheap: a few timestamps per request), summed over the
redirects followed: ``connect`` (the TCP connect, the name lookup included), ``tls`` (the handshake),
``processing`` (request sent → response headers, the server's think time) and ``transfer`` (the body).
The certificate is the final connection's leaf (and, on Python 3.13 and later, the earliest expiry of
the whole chain the server presented), read with ``cryptography`` from the TLS object's DER.

Proxies from the environment are ignored (``trust_env=False``): the probe measures the path from this
host to the service, never a proxy's.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography import x509

from collectors.probes.config import HttpSettings, HttpTarget

PHASES = ("connect", "tls", "processing", "transfer")
#: httpcore trace event → (phase, whether it starts or ends it)
_MARKS: dict[str, tuple[str, bool]] = {
    "connection.connect_tcp.started": ("connect", True),
    "connection.connect_tcp.complete": ("connect", False),
    "connection.start_tls.started": ("tls", True),
    "connection.start_tls.complete": ("tls", False),
    "http11.send_request_headers.started": ("processing", True),
    "http11.receive_response_headers.complete": ("processing", False),
    "http2.send_request_headers.started": ("processing", True),
    "http2.receive_response_headers.complete": ("processing", False),
}


@dataclass(slots=True)
class HttpResult:
    """One check of one target. ``reason`` is empty when it succeeded."""

    target: HttpTarget
    success: bool
    reason: str
    status: int | None = None
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    #: Unix time when the earliest certificate read expires (the leaf at least); None over plain HTTP
    cert_expiry: float | None = None
    redirects: int = 0


def _context(target: HttpTarget) -> ssl.SSLContext:
    if not target.verify_tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return ssl.create_default_context(cafile=str(target.ca_file) if target.ca_file else None)


def earliest_expiry(ssl_object: Any) -> float | None:
    """The earliest ``notAfter`` (Unix s) among the certificates the TLS peer presented: the leaf always,
    the rest of the chain where Python can read it (``get_unverified_chain``, 3.13)."""
    if ssl_object is None:
        return None
    ders: list[bytes] = []
    leaf = ssl_object.getpeercert(binary_form=True)
    if leaf:
        ders.append(leaf)
    chain = getattr(ssl_object, "get_unverified_chain", None)
    if chain is not None:
        ders.extend(bytes(c) for c in chain() or () if isinstance(c, bytes | bytearray))  # DER, as 3.13 gives
    if not ders:
        return None
    return min(x509.load_der_x509_certificate(d).not_valid_after_utc.timestamp() for d in ders)


def _reason(exc: BaseException) -> str:
    """A failure in words: what an operator reads in the log and the test asserts on."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return f"timeout ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, ssl.SSLCertVerificationError):
                return f"TLS certificate not valid: {cause.verify_message}"
            if isinstance(cause, ssl.SSLError):
                return f"TLS handshake failed: {cause.reason or cause}"
            if isinstance(cause, ConnectionRefusedError):
                return "connection refused"
            cause = cause.__cause__ or cause.__context__
        lowered = text.lower()
        if "refused" in lowered:
            return "connection refused"
        return f"connect failed: {text}"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    return f"{type(exc).__name__}: {text}"


async def check(target: HttpTarget, settings: HttpSettings) -> HttpResult:
    """GET ``target.url`` once; never raises for what the service does (that is the result)."""
    phases = dict.fromkeys(PHASES, 0.0)
    started: dict[str, float] = {}

    async def trace(event: str, info: dict[str, Any]) -> None:
        mark = _MARKS.get(event)
        if mark is None:
            return
        phase, start = mark
        now = time.perf_counter()
        if start:
            started[phase] = now
        elif phase in started:
            phases[phase] += now - started.pop(phase)

    timeout = httpx.Timeout(settings.timeout_seconds)
    result = HttpResult(target, False, "")
    try:
        context = _context(target)
    except (OSError, ssl.SSLError) as exc:  # ca_file removed or unreadable since start-up
        result.reason = f"TLS settings unusable: {exc}"
        return result
    start = time.perf_counter()
    try:
        async with httpx.AsyncClient(verify=context, follow_redirects=target.follow_redirects, timeout=timeout,
                                     trust_env=False, headers={"User-Agent": "ftthnoc-probe"}) as client:
            start = time.perf_counter()  # the client's own set-up is not the service's time
            async with (
                asyncio.timeout(settings.timeout_seconds),
                client.stream("GET", target.url, extensions={"trace": trace}) as response,
            ):
                stream = response.extensions.get("network_stream")
                result.cert_expiry = earliest_expiry(stream.get_extra_info("ssl_object") if stream else None)
                result.status = response.status_code
                result.redirects = len(response.history)
                body_start = time.perf_counter()
                body = bytearray()
                if settings.max_body_bytes:
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) >= settings.max_body_bytes:
                            del body[settings.max_body_bytes:]
                            break
                phases["transfer"] = time.perf_counter() - body_start
    except (httpx.HTTPError, TimeoutError, OSError, ssl.SSLError) as exc:
        result.reason = _reason(exc) if not isinstance(exc, TimeoutError) else "timeout"
        result.seconds = time.perf_counter() - start
        result.phases = {p: v for p, v in phases.items() if v > 0}
        return result
    result.seconds = time.perf_counter() - start
    result.phases = phases
    if not target.ok_status(response.status_code):
        expected = ", ".join(map(str, target.valid_status_codes)) or "2xx"
        result.reason = f"status {response.status_code} not in {expected}"
    elif target.body_regex is not None and not re.search(target.body_regex,
                                                          bytes(body).decode(response.encoding or "utf-8",
                                                                             errors="replace")):
        result.reason = "body does not match body_regex"
    else:
        result.success = True
    return result


async def http_cycle(targets: Sequence[HttpTarget], settings: HttpSettings) -> list[HttpResult]:
    """Every target once, concurrently; one result each, in order."""
    return list(await asyncio.gather(*(check(t, settings) for t in targets)))
