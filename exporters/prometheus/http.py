"""HTTP face of the exporter: ``/metrics`` from the snapshot and snmp_exporter's ``/snmp?target=`` pattern,
and a landing page (Japanese first) that links them, the web pages and the README.

A WSGI application (so it can also be mounted elsewhere) plus a small threaded server: each request gets
its own daemon thread because ``/snmp`` runs a probe that may take seconds, and one slow OLT must not
hold up the ``/metrics`` scrape of everything else.
"""

from __future__ import annotations

import gzip
import html
import logging
import re
import socket
import threading
from collections.abc import Callable, Iterable
from importlib.metadata import PackageNotFoundError, metadata
from pathlib import Path
from socketserver import TCPServer, ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from prometheus_client.registry import Collector, CollectorRegistry

from ftthnoc.errors import ConfigError, FtthnocError
from ftthnoc.samples import MetricFamily

from .cache import Fallback
from .collector import FamiliesCollector, SnapshotRegistry, exposition

__all__ = ["ExporterServer", "Probe", "example_query", "make_app", "project_readme", "serve"]

log = logging.getLogger(__name__)

Probe = Callable[[str, list[str], str, float | None], list[MetricFamily]]
"""``probe(target, modules, auth, timeout) -> families``; raises KeyError/ConfigError for unknown module or
auth. ``timeout`` is the scraper's own deadline (None: the prober's default); the probe must end by it."""

#: Seconds kept back from the scraper's timeout for the answer to travel (snmp_exporter's
#: ``--snmp.timeout-offset`` default), so that a slow device's poll ends as a scrape error, not a timeout.
TIMEOUT_OFFSET = 0.5

_TEXT = "text/plain; charset=utf-8"
# Always used with fullmatch (``$`` would let a trailing newline through).
_NAME_RE = re.compile(r"[\w.\-]{1,128}")  # module and auth names; \w admits Japanese on purpose
_HOST_RE = re.compile(r"(?:\[[0-9A-Fa-f:.]+(?:%[\w.\-]+)?\]|[\w.\-]+)(?::(?P<port>\d{1,5}))?")
_MAX_MODULES = 32
_POLL_INTERVAL = 0.1  # how long shutdown() may wait for the accept loop; 10 idle wake-ups/s cost nothing


class _BadRequest(Exception):
    """A request the client must fix; the message is the one-line body of the 400."""


def _q(value: str) -> str:
    """Quote user input for a one-line message: repr() escapes newlines and control characters."""
    return repr(value if len(value) <= 80 else value[:80] + "…")


def _one(params: dict[str, list[str]], name: str, default: str | None = None) -> str:
    values = params.get(name)
    if not values:
        if default is not None:
            return default
        raise _BadRequest(f"missing parameter '{name}'")
    if len(values) > 1:
        raise _BadRequest(f"parameter '{name}' must be given only once")
    if not values[0]:
        raise _BadRequest(f"parameter '{name}' is empty")
    return values[0]


def _check_target(target: str) -> str:
    """HOST, HOST:PORT or [IPv6]:PORT; the probe resolves it, we only refuse obvious garbage early."""
    m = _HOST_RE.fullmatch(target) if len(target) <= 255 else None
    if m is None:
        raise _BadRequest(f"invalid target {_q(target)}: expected HOST:PORT (IPv6 as [ADDR]:PORT)")
    port = m.group("port")
    if port is not None and not 1 <= int(port) <= 65535:
        raise _BadRequest(f"invalid target {_q(target)}: port must be 1-65535")
    return target


def _modules(params: dict[str, list[str]], default: str | None) -> list[str]:
    """``module=a,b`` and ``module=a&module=b`` both work, as in snmp_exporter; duplicates are dropped."""
    raw = params.get("module") or ([default] if default else [])
    if not raw:
        raise _BadRequest("missing parameter 'module'")
    names: list[str] = []
    for value in raw:
        for name in value.split(","):
            name = name.strip()
            if not _NAME_RE.fullmatch(name):
                raise _BadRequest(f"invalid module name {_q(name)}")
            if name not in names:
                names.append(name)
    if len(names) > _MAX_MODULES:
        raise _BadRequest(f"too many modules ({len(names)} > {_MAX_MODULES})")
    return names


def _query(environ: WSGIEnvironment) -> dict[str, list[str]]:
    # PEP 3333 hands the raw query over as latin-1; undo that before percent-decoding as UTF-8.
    raw = str(environ.get("QUERY_STRING", "")).encode("latin-1", "replace").decode("utf-8", "replace")
    return parse_qs(raw, keep_blank_values=True)


def _scrape_timeout(environ: WSGIEnvironment) -> float | None:
    """The scraper's deadline less the offset, from Prometheus' ``X-Prometheus-Scrape-Timeout-Seconds``."""
    raw = str(environ.get("HTTP_X_PROMETHEUS_SCRAPE_TIMEOUT_SECONDS", ""))
    try:
        seconds = float(raw)
    except ValueError:
        return None
    if not 0 < seconds < 86400:
        return None
    return max(0.5, seconds - TIMEOUT_OFFSET)


def _gzip_accepted(accept_encoding: str) -> bool:
    """True if the client lists gzip without q=0 (Prometheus always does; ONU tables compress ~10×)."""
    for part in accept_encoding.split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() == "gzip":
            q = params.replace(" ", "").lower()
            return not re.fullmatch(r"q=0(?:\.0{0,3})?", q)
    return False


#: what the landing page says instead of an example probe when there is none to give
NO_TARGET = ("例はありません: 設定に機器がありません / no example: no target is configured")


def example_query(targets: Iterable[tuple[str, list[str], str]], default_auth: str | None) -> str | None:
    """A ``/snmp`` query that works here: a configured target (address, modules, auth), ``if_mib`` if it has
    it, else its first module; ``auth`` only when the target's is not the default. A target on the default
    auth first, so the example reads as snmp_exporter's. None without a target."""
    listed = list(targets)
    listed.sort(key=lambda t: t[2] != default_auth)  # stable: the configuration's order otherwise
    for address, modules, auth in listed:
        if not modules:
            continue
        params = {"target": address, "module": "if_mib" if "if_mib" in modules else modules[0]}
        if auth != default_auth:
            params["auth"] = auth
        return urlencode(params, safe=":[]")
    return None


def project_readme() -> str | None:
    """The project's README: the checkout's ``README.md`` (an editable install), else the installed
    distribution's long description; None when neither is there."""
    checkout = Path(__file__).resolve().parents[2] / "README.md"
    try:
        return checkout.read_text(encoding="utf-8")
    except OSError:
        pass
    try:
        text = metadata("ftthnoc").json.get("description")
    except PackageNotFoundError:
        return None
    return text if isinstance(text, str) and text.strip() else None


def _landing(example: str | None, *, probing: bool, web_url: str | None, readme: bool) -> bytes:
    """A short bilingual page (Japanese first): where the metrics, a probe, the web pages and the README are."""
    e = html.escape
    if not probing:
        snmp = ("<li><code>/snmp</code>: このプロセスでは無効です / not enabled in this process</li>")
    elif example is None:
        snmp = (f"<li><code>/snmp?target=HOST:PORT&amp;module=MODULE[&amp;auth=AUTH]</code>: {e(NO_TARGET)}</li>")
    else:
        link = "snmp?" + example
        snmp = (f'<li><a href="{e(link)}">/{e(link)}</a>: 機器 1 台をいま問い合わせます / probe one target now '
                "(snmp_exporter の multi-target 形式 / snmp_exporter's multi-target pattern; "
                "<code>module</code> はカンマ区切りで複数可 / may list several, comma-separated)</li>")
    if web_url:
        base = web_url.rstrip("/")
        web = (f'<li><a href="{e(base)}/">{e(base)}/</a>: 画面（ログイン） / web pages (log in); '
               f'<a href="{e(base)}/docs">API</a></li>')
    else:
        web = ("<li>画面: このプロセスでは動いていません（<code>ftthnoc serve --api HOST:PORT</code> で起動） / "
               "web pages: not served by this process (start them with <code>ftthnoc serve --api "
               "HOST:PORT</code>)</li>")
    doc = ('<li><a href="readme">README</a>: 使い方と指標の一覧 / how to use ftthnoc, the metric catalogue</li>'
           if readme else "")
    page = f"""<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ftthnoc エクスポーター / exporter</title></head>
<body>
<h1>ftthnoc エクスポーター / exporter</h1>
<p>北広島町の FTTH を監視する ftthnoc の Prometheus 向け出力です。 /
ftthnoc's Prometheus output for Kitahiroshima's FTTH network.</p>
<ul>
<li><a href="metrics">/metrics</a>: 全機器の最新のポーリング結果（Prometheus の取得先） /
the latest poll of every configured target (what Prometheus scrapes)</li>
{snmp}
{web}
{doc}
<li><a href="-/healthy">/-/healthy</a>: 稼働確認 / health check</li>
</ul>
</body></html>
"""
    return page.encode("utf-8")


def make_app(
    registry: Collector,
    probe: Probe | None = None,
    *,
    timestamps: bool = False,
    default_module: str | None = None,
    default_auth: str | None = None,
    example: str | None = None,
    web_url: str | None = None,
    readme: str | None = None,
) -> WSGIApplication:
    """The exporter's WSGI application.

    ``registry`` is served on ``/metrics``; ``probe`` (thread-safe, supplied by the poller) backs
    ``/snmp``, which answers 404 without one. ``timestamps`` applies to ``/snmp`` output; the registry
    decides for ``/metrics``. The landing page links ``example`` (a ``/snmp`` query that works here, see
    ``example_query``; without one it says why), the web pages at ``web_url`` when the same process serves
    them, and ``readme`` (served as text on ``/readme``).
    """
    landing = _landing(example, probing=probe is not None, web_url=web_url, readme=readme is not None)
    readme_body = readme.encode("utf-8") if readme is not None else None

    def respond(
        start_response: StartResponse,
        status: str,
        body: bytes,
        content_type: str = _TEXT,
        extra: Iterable[tuple[str, str]] = (),
        head: bool = False,
    ) -> list[bytes]:
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), *extra]
        start_response(status, headers)
        return [] if head else [body]

    def line(start_response: StartResponse, status: str, message: str, head: bool = False) -> list[bytes]:
        text = message.splitlines()[0] if message else status
        return respond(start_response, status, (text + "\n").encode("utf-8"), head=head)

    def metrics_response(
        environ: WSGIEnvironment, start_response: StartResponse, source: Collector, head: bool
    ) -> list[bytes]:
        accept = environ.get("HTTP_ACCEPT")
        gzipped = _gzip_accepted(str(environ.get("HTTP_ACCEPT_ENCODING", "")))
        extra: list[tuple[str, str]] = [("Vary", "Accept, Accept-Encoding")]
        if gzipped:
            extra.append(("Content-Encoding", "gzip"))
        if isinstance(source, SnapshotRegistry):
            try:  # each poll encoded once, not on every scrape
                body, content_type = source.cache.body(accept, gzipped)
                return respond(start_response, "200 OK", body, content_type, extra, head)
            except Fallback as exc:
                log.debug("/metrics encoded in full: %s", exc)
        body, content_type = exposition(source, accept)
        if gzipped:
            body = gzip.compress(body, compresslevel=6)
        return respond(start_response, "200 OK", body, content_type, extra, head)

    def snmp(environ: WSGIEnvironment, start_response: StartResponse, head: bool) -> list[bytes]:
        if probe is None:
            return line(start_response, "404 Not Found", "multi-target probing is not enabled here", head)
        try:
            params = _query(environ)
            target = _check_target(_one(params, "target"))
            modules = _modules(params, default_module)
            auth = _one(params, "auth", default_auth)
            if not _NAME_RE.fullmatch(auth):
                raise _BadRequest(f"invalid auth name {_q(auth)}")
        except _BadRequest as exc:
            return line(start_response, "400 Bad Request", str(exc), head)
        try:
            families = probe(target, modules, auth, _scrape_timeout(environ))
        except KeyError as exc:
            detail = str(exc.args[0]) if exc.args else ""
            return line(start_response, "400 Bad Request", f"unknown module or auth: {detail}", head)
        except ConfigError as exc:
            return line(start_response, "400 Bad Request", str(exc), head)
        except FtthnocError as exc:  # our own errors carry a one-line operator message without secrets
            log.warning("probe of %s %s failed: %s", target, modules, exc)
            return line(start_response, "500 Internal Server Error", f"probe failed: {exc}", head)
        except Exception as exc:  # anything else: the traceback goes to the log, never to the client
            log.exception("probe of %s %s raised", target, modules)
            return line(
                start_response,
                "500 Internal Server Error",
                f"probe failed with an internal error ({type(exc).__name__}); see the exporter log",
                head,
            )
        throwaway = CollectorRegistry(auto_describe=False)
        throwaway.register(FamiliesCollector(families, timestamps=timestamps))
        return metrics_response(environ, start_response, throwaway, head)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET"))
        # PEP 3333 again: PATH_INFO arrives latin-1 decoded.
        path = (
            str(environ.get("PATH_INFO", "/")).encode("latin-1", "replace").decode("utf-8", "replace") or "/"
        )
        if method not in ("GET", "HEAD"):
            return respond(
                start_response,
                "405 Method Not Allowed",
                f"method {method} not allowed; use GET\n".encode(),
                extra=[("Allow", "GET, HEAD")],
            )
        head = method == "HEAD"
        try:
            if path == "/metrics":
                return metrics_response(environ, start_response, registry, head)
            if path == "/snmp":
                return snmp(environ, start_response, head)
            if path == "/":
                return respond(start_response, "200 OK", landing, "text/html; charset=utf-8", head=head)
            if path == "/readme" and readme_body is not None:
                return respond(start_response, "200 OK", readme_body, "text/plain; charset=utf-8", head=head)
            if path == "/-/healthy":
                return respond(start_response, "200 OK", b"OK", head=head)
            return line(start_response, "404 Not Found", f"no such page {_q(path)}", head)
        except Exception as exc:
            log.exception("error serving %s", path)
            return line(
                start_response,
                "500 Internal Server Error",
                f"internal error ({type(exc).__name__}); see the exporter log",
                head,
            )

    return app


class _QuietHandler(WSGIRequestHandler):
    """Request lines go to the debug log, not stderr: Prometheus scrapes every 15 s."""

    timeout = 60  # a client that stalls mid-request frees its thread eventually

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily) -> None:
        self.address_family = family
        super().__init__(address, _QuietHandler)

    def server_bind(self) -> None:
        """Like WSGIServer's, minus the reverse DNS lookup (getfqdn) that can stall start-up."""
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()


class ExporterServer:
    """A running server: ``server_port`` (useful with port 0), ``url`` and ``shutdown()``."""

    def __init__(self, httpd: _ThreadingWSGIServer, thread: threading.Thread) -> None:
        self._httpd = httpd
        self._thread = thread
        self._stopped = False
        self._stop_lock = threading.Lock()

    @property
    def server_port(self) -> int:
        return self._httpd.server_port

    @property
    def host(self) -> str:
        return self._httpd.server_name

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.server_port}"

    def shutdown(self) -> None:
        """Stop accepting, close the socket and wait for the accept loop; safe to call twice."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> ExporterServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def serve(app: WSGIApplication, host: str = "127.0.0.1", port: int = 0) -> ExporterServer:
    """Serve ``app`` from a daemon thread; loopback by default, port 0 picks a free port."""
    info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, _, _, sockaddr = info[0]
    httpd = _ThreadingWSGIServer((str(sockaddr[0]), int(sockaddr[1])), family)
    httpd.set_app(app)
    name = f"ftthnoc-http-{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, args=(_POLL_INTERVAL,), name=name, daemon=True)
    thread.start()
    return ExporterServer(httpd, thread)
