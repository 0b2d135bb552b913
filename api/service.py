"""The API served next to the poller, in the same process: ONU state straight from the poll snapshot.

``ftthnoc serve --api HOST:PORT`` and the demo use it: uvicorn runs in a thread, and the ONUs' current
state (``up``, ``rx_dbm``) is read from the poller's snapshot, so the API never asks a device anything.

Proxy headers are believed only from ``FTTHNOC_API_TRUSTED_PROXIES`` (none by default): uvicorn's own
default believes ``X-Forwarded-For`` from loopback, so anything on the host (or a proxy passing the
header through) could pick the client address the login limiter counts failures by.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import uvicorn
from sqlalchemy import Engine

from api.app import create_app
from api.services.onus import NOT_POLLED, OnuLine
from ftthnoc.config import Config
from ftthnoc.incidents.classify import CAUSE_FAMILY
from ftthnoc.inventory import db
from ftthnoc.kpi import figures
from ftthnoc.linehistory import LineHistoryReader
from ftthnoc.samples import MetricFamily
from ftthnoc.settings import Settings

OnuKey = tuple[str, str, int]


#: The snapshot's families a line's state is read from (the cause is an info family: the exporters add
#: ``_info`` to its name, the snapshot holds it without).
_LINE_FAMILIES = ("ftth_onu_up", "ftth_onu_rx_power_dbm", CAUSE_FAMILY, "ftth_onu_last_down_timestamp_seconds")


class SnapshotOnuState:
    """``(olt, pon_port, onu_id) -> (up, rx_dbm)`` from the latest poll, indexed at most every few seconds;
    ``line(...)`` adds the last down cause and time (``api.services.onus.OnuLine``)."""

    def __init__(self, families: Callable[[], Iterable[MetricFamily]], max_age: float = 5.0) -> None:
        self._families = families
        self._max_age = max_age
        self._lock = threading.Lock()
        self._index: dict[OnuKey, OnuLine] = {}
        self._built = -1e9

    def __call__(self, olt: str, pon_port: str, onu_id: int) -> tuple[bool | None, float | None]:
        found = self.line(olt, pon_port, onu_id)
        return found.up, found.rx_dbm

    def line(self, olt: str, pon_port: str, onu_id: int) -> OnuLine:
        with self._lock:
            if time.monotonic() - self._built > self._max_age:
                self._index = self._build()
                self._built = time.monotonic()
            return self._index.get((olt, pon_port, onu_id), NOT_POLLED)

    def _build(self) -> dict[OnuKey, OnuLine]:
        values: dict[str, dict[OnuKey, float]] = {name: {} for name in _LINE_FAMILIES}
        causes: dict[OnuKey, str] = {}
        for fam in self._families():
            if fam.name not in values:
                continue
            for s in fam.samples:
                try:
                    key = (s.labels["olt"], s.labels["pon_port"], int(s.labels["onu_id"]))
                except (KeyError, ValueError):
                    continue
                if fam.name == CAUSE_FAMILY:
                    if s.labels.get("cause"):
                        causes[key] = s.labels["cause"]
                else:
                    values[fam.name][key] = s.value
        up, rx, _cause, down = (values[name] for name in _LINE_FAMILIES)
        index: dict[OnuKey, OnuLine] = {}
        for key in up.keys() | rx.keys():
            stamp = down.get(key)
            index[key] = OnuLine(True, up[key] == 1.0 if key in up else None, rx.get(key), causes.get(key),
                                 datetime.fromtimestamp(stamp, UTC) if stamp and stamp > 0 else None)  # fmt: skip
        return index


class ApiServer:
    """uvicorn in a daemon thread; ``stop()`` asks it to finish and waits.

    ``trusted_proxies`` (``FTTHNOC_API_TRUSTED_PROXIES``): the peers whose ``X-Forwarded-For`` and
    ``X-Forwarded-Proto`` uvicorn believes; empty: none, the headers are ignored.
    """

    def __init__(self, app: Any, host: str, port: int, *, trusted_proxies: Sequence[str] = ()) -> None:
        self.config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off",
                                     proxy_headers=bool(trusted_proxies),
                                     forwarded_allow_ips=list(trusted_proxies) or None)  # fmt: skip
        self.server = uvicorn.Server(self.config)
        self.thread: threading.Thread | None = None

    def start(self, timeout: float = 15.0) -> ApiServer:
        """Bind here, then serve: a taken port is an ``OSError`` with its errno (``EADDRINUSE``) at once, and
        the port cannot be taken between a check and uvicorn's own bind (two demos starting together)."""
        sock = _listening_socket(self.config.host, self.config.port)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, name="ftthnoc-api",
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise OSError(f"the API did not start on {self.config.host}:{self.config.port}")
            time.sleep(0.05)
        return self

    @property
    def url(self) -> str:
        sockets = [s for server in self.server.servers for s in server.sockets]
        port = sockets[0].getsockname()[1] if sockets else self.config.port
        return f"http://{self.config.host}:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
        jobs = getattr(self.config.app.state, "jobs", None) if hasattr(self.config.app, "state") else None
        if jobs is not None:
            jobs.shutdown()


def _listening_socket(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                         flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


class RecentPeaks:
    """``app.state.school_peaks_mbps``: each school's uplink peak over the last days, as the KPI recorder
    keeps it in the inventory database (``figures.recent_peaks``), read afresh on every call."""

    def __init__(self, engine: Engine, days: int = 7) -> None:
        self.engine = engine
        self.days = days

    def __call__(self) -> dict[str, float]:
        with db.session_factory(self.engine)() as session:
            return figures.recent_peaks(session, datetime.now(UTC), self.days)


def start_api(engine: Engine, config: Config, families: Callable[[], Iterable[MetricFamily]], host: str,
              port: int, *, settings: Settings, line_history: LineHistoryReader | None = None) -> ApiServer:
    """Serve the API (and its web pages) over ``engine``, configured by ``settings``; enrolment jobs use
    ``config``; ``line_history``: the process's own from its polls, used when no Prometheus URL is set."""
    app = create_app(engine, settings=settings, onu_state=SnapshotOnuState(families))
    if app.state.line_history is None:
        app.state.line_history = line_history
    app.state.config = config  # enrolment jobs run the provisioning workflows with it
    app.state.own_olts = frozenset(t.name for t in config.targets)  # a shard's: the others' are in the store
    app.state.school_peaks_mbps = RecentPeaks(engine)
    return ApiServer(app, host, port, trusted_proxies=settings.api_trusted_proxies).start()


#: the demo's web logins (loopback only, simulated town): name -> (role, password)
DEMO_USERS: dict[str, tuple[str, str]] = {
    "admin": ("admin", "admin-demo"),
    "operator": ("operator", "operator-demo"),
    "support": ("support", "support-demo"),
    "viewer": ("viewer", "viewer-demo"),
}


def add_demo_users(engine: Engine, school: str | None) -> list[tuple[str, str, str]]:
    """The demo's users (one per role; the school user bound to ``school``): (name, role, password)."""
    from sqlalchemy import select

    from api.security import hash_password
    from ftthnoc.inventory.db import session_scope
    from ftthnoc.inventory.models import School, User

    made: list[tuple[str, str, str]] = []
    with session_scope(engine, actor="demo") as s:
        users: list[tuple[str, str, str, int | None]] = [
            (name, role, password, None) for name, (role, password) in DEMO_USERS.items()
        ]
        if school is not None:
            school_id = s.scalar(select(School.id).where(School.code == school))
            users.append((f"school-{school.lower()}", "school", "school-demo", school_id))
        for name, role, password, school_id in users:
            if s.scalar(select(User.id).where(User.name == name)) is None:
                s.add(User(name=name, role=role, school_id=school_id, password_hash=hash_password(password),
                           active=True))
            made.append((name, role, password))
    return made
