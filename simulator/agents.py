"""Start and stop the simulated town's SNMP agents: one ``snmpsim-command-responder`` process per device
(each OLT, BWA station and VPN gateway; the small ones index their data in a moment).

Every agent listens on 127.0.0.1 and a free UDP port, answers SNMPv2c community ``public`` and the
demo's SNMPv3 users (SHA-256 + AES-256 Blumenthal, and SHA + AES-128), and is waited for with a real
SNMP GET rather than a sleep. ``TownAgents`` hands back the ``Town`` with the ports it really got, so
the inventory document and the poller configuration point at the running agents.

SNMPv3 context: snmpsim selects the data file by context name. ``-n public`` reaches ``public.snmprec``;
an *empty* context (what real OLTs and our poller use) reaches nothing unless a file named
``self.snmprec`` exists, and without one the agent drops the request silently (the manager sees a
timeout, not an error). ``snmprec.write_olt`` therefore writes ``self.snmprec`` beside
``public.snmprec``. Side effect: the agent also answers v2c with an empty community.

Variation modules: the VPN gateway's sessions come from ``simulator/variation/telework.py``. snmpsim's
``--variation-modules-dir`` *replaces* its search path, so the gateway's agent gets two: a directory
holding only a copy of that file (snmpsim would try to load any other ``.py`` there, ``__init__.py``
included), and snmpsim's own (``numeric`` moves the counters). ``frozen_clock`` sets
``FTTHNOC_SIM_CLOCK`` for the agents, so that a test knows the time the curve is read at.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from collectors.snmp import ber
from ftthnoc.errors import FtthnocError
from simulator.snmprec import EMPTY_CONTEXT_FILE, write_town
from simulator.town import DEMO_V3_USERS, SnmpUser, Town, VpnGateway, generate_town
from simulator.variation import telework

SYS_NAME = (1, 3, 6, 1, 2, 1, 1, 5, 0)
_SNMPSIM_AUTH = {"SHA": "SHA", "SHA256": "SHA256"}
_SNMPSIM_PRIV = {"AES": "AES", "AES256": "AES256BLMT"}  # poller's AES256 = Blumenthal = net-snmp AES-256

# Run in the child before exec: die with the parent (SIGTERM) even if it is killed with SIGKILL, so an
# aborted test run leaves no agents behind. The parent-pid check closes the race with an early death.
_BOOT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, int(signal.SIGTERM))\n"
    "os.getppid() == int(sys.argv[1]) or os._exit(70)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


class AgentStartError(FtthnocError):
    """An agent did not come up; the message carries the tail of its log."""


def snmpsim_executable() -> Path:
    """The responder installed beside this interpreter (the venv's), else the one on PATH."""
    here = Path(sys.executable).parent / "snmpsim-command-responder"
    if here.exists():
        return here
    found = shutil.which("snmpsim-command-responder")
    if found is None:
        raise AgentStartError("snmpsim-command-responder not found next to the Python interpreter or on PATH")
    return Path(found)


def snmpsim_variation_dir() -> Path | None:
    """snmpsim's own variation modules (``numeric``, ...), found without importing snmpsim."""
    spec = importlib.util.find_spec("snmpsim")
    if spec is None or spec.origin is None:
        return None
    here = Path(spec.origin).parent / "variation"
    return here if here.is_dir() else None


def write_variation_dir(directory: Path) -> Path:
    """A directory with only the town's ``telework`` module in it, for ``--variation-modules-dir``."""
    directory.mkdir(parents=True, exist_ok=True)
    source = Path(telework.__file__).read_bytes()
    target = directory / "telework.py"
    if not target.exists() or target.read_bytes() != source:
        target.write_bytes(source)
    return directory


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A port the kernel says is free now. The agent binds it a moment later; ``_Agent`` detects the
    rare loss of that race (snmpsim does not fail when its bind fails, it just never answers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


# --------------------------------------------------------------------------- a tiny SNMP GET
def snmp_get_packet(community: str, oid: Sequence[int], request_id: int) -> bytes:
    """An SNMPv2c GetRequest, enough to tell whether an agent answers (the poller's own codec)."""
    return ber.encode_request(community.encode("utf-8"), ber.GET, request_id, [tuple(oid)])


def _is_response(data: bytes, request_id: int) -> bool:
    try:
        return ber.decode_response(data).request_id == request_id
    except ber.BerError:
        return False


def _owns_udp_port(pid: int, port: int) -> bool | None:
    """Whether process ``pid`` holds a UDP socket on ``port``; None where /proc cannot tell."""
    try:
        inodes = set()
        for table in ("/proc/net/udp", "/proc/net/udp6"):
            with contextlib.suppress(FileNotFoundError), open(table) as f:
                for line in f.readlines()[1:]:
                    cols = line.split()
                    if int(cols[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(f"socket:[{cols[9]}]")
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return True
        return False
    except (OSError, ValueError, IndexError):
        return None


# --------------------------------------------------------------------------- one agent process
@dataclass
class _Agent:
    """One snmpsim process serving one data directory."""

    name: str
    data_dir: Path
    cache_dir: Path
    log_path: Path
    host: str
    port: int
    community: str
    users: Sequence[SnmpUser]
    die_with_parent: bool
    fixed_port: bool
    #: searched for variation modules, in order (empty: snmpsim's default path)
    variation_dirs: Sequence[Path] = ()
    #: set in the agent's environment (e.g. the frozen clock of the ``telework`` module)
    env: Mapping[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    attempts: int = 0
    listening_since: float | None = None
    request_id: int = field(default_factory=lambda: int.from_bytes(os.urandom(3), "big") + 1)
    #: Fixed for the agent's life, restarts included (as a real OLT's): SNMPv3 managers that know the
    #: old engine ID would otherwise get no answer at all from a restarted agent.
    engine_id: str = field(default_factory=lambda: "80001f8805" + os.urandom(8).hex())

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def command(self) -> list[str]:
        cmd = [
            str(snmpsim_executable()),
            f"--v3-engine-id={self.engine_id}",
            f"--data-dir={self.data_dir}",
            f"--cache-dir={self.cache_dir}",
            f"--agent-udpv4-endpoint={self.host}:{self.port}",
            "--log-level=error",  # info logs every request and prints the USM keys
        ]
        cmd += [f"--variation-modules-dir={d}" for d in self.variation_dirs]
        for u in self.users:
            cmd += [
                f"--v3-user={u.username}",
                f"--v3-auth-key={u.password}",
                f"--v3-auth-proto={_SNMPSIM_AUTH[u.auth_protocol]}",
                f"--v3-priv-key={u.priv_password}",
                f"--v3-priv-proto={_SNMPSIM_PRIV[u.priv_protocol]}",
            ]
        if self.die_with_parent and sys.platform.startswith("linux"):
            return [sys.executable, "-c", _BOOT, str(os.getpid()), *cmd]
        return cmd

    def spawn(self) -> None:
        self.attempts += 1
        self.listening_since = None
        env = {**os.environ, **self.env, "SNMPSIM_ALLOW_ROOT": "true"}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        self.started_at = time.monotonic()

    def log_tail(self, limit: int = 2000) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return text[-limit:].strip() or "(empty log)"

    def bind_lost(self, now: float, grace: float = 1.5) -> bool:
        """snmpsim prints 'Listening' and runs on even when the bind failed: notice that."""
        if self.process is None or self.listening_since is None:
            if self.process is not None and "Listening at" in self.log_tail(4000):
                self.listening_since = now
            return False
        if now - self.listening_since < grace:
            return False
        return _owns_udp_port(self.process.pid, self.port) is False

    def stop(self, timeout: float = 5.0) -> None:
        p, self.process = self.process, None
        if p is not None:
            _stop_process(p, timeout)


def _stop_process(p: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    if p.poll() is not None:
        return
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout)


def _stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        with contextlib.suppress(OSError):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
    for p in procs:
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            _stop_process(p)


def _wait_ready(agents: Sequence[_Agent], timeout: float, max_attempts: int = 4) -> None:
    """Send GETs until every agent answers; respawn on a lost port race; raise with the log tail."""
    pending = {a.name: a for a in agents}
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        by_addr: dict[tuple[str, int], _Agent] = {}
        next_send = 0.0
        while pending:
            now = time.monotonic()
            for a in list(pending.values()):
                assert a.process is not None
                rc = a.process.poll()
                lost = a.bind_lost(now)
                if rc is not None or lost:
                    why = (
                        f"exited with status {rc}" if rc is not None else f"could not bind UDP port {a.port}"
                    )
                    a.stop()
                    if rc is None and not a.fixed_port and a.attempts < max_attempts:
                        a.port = free_udp_port(a.host)
                        a.spawn()
                        continue
                    raise AgentStartError(
                        f"snmpsim agent for {a.name} {why}; log {a.log_path}:\n{a.log_tail()}"
                    )
            if now > deadline:
                names = ", ".join(sorted(pending))
                tails = "\n".join(
                    f"--- {a.name} ({a.log_path}):\n{a.log_tail(800)}" for a in pending.values()
                )
                raise AgentStartError(
                    f"snmpsim agents did not answer within {timeout:.0f} s: {names}\n{tails}"
                )
            if now >= next_send:
                by_addr = {(a.host, a.port): a for a in pending.values()}
                for a in pending.values():
                    with contextlib.suppress(OSError):
                        sock.sendto(snmp_get_packet(a.community, SYS_NAME, a.request_id), (a.host, a.port))
                next_send = now + 0.1
            ready, _, _ = select.select([sock], [], [], 0.05)
            while ready:
                try:
                    data, addr = sock.recvfrom(65535)
                except BlockingIOError:
                    break
                a2 = by_addr.get((addr[0], addr[1]))
                if a2 is None or a2.name not in pending or not _is_response(data, a2.request_id):
                    continue
                assert a2.process is not None
                if _owns_udp_port(a2.process.pid, a2.port) is False:
                    continue  # someone else's agent holds this port; bind_lost() will move ours
                del pending[a2.name]


# --------------------------------------------------------------------------- the town
class TownAgents:
    """The town's agents as a context manager::

        with TownAgents(generate_town(onus=600)) as agents:
            agents.town.olts[0].address          # "127.0.0.1:40123"
            agents.poller_config()               # points at the running agents

    Every device of the town gets its agent: the OLTs, the BWA stations and the VPN gateways.
    ``ports="free"`` (default) picks free ports; ``"town"`` uses the town's own placeholder ports
    (stable addresses for a demo); a mapping fixes chosen devices' ports. ``frozen_clock`` (Unix
    seconds) stops the clock of the gateway's working-day curve, for tests that compute its value.
    ``workdir`` defaults to a temporary directory removed on stop; pass a persistent ``workdir`` *and*
    ``cache_dir`` to reuse snmpsim's index across runs (data files are rewritten only when they change).

    With ``die_with_parent`` (Linux) the agents get SIGTERM when the thread that started them ends, so
    start them from a thread that lives as long as you need them (the main thread, normally).
    """

    def __init__(
        self,
        town: Town | None = None,
        *,
        workdir: Path | str | None = None,
        cache_dir: Path | str | None = None,
        host: str = "127.0.0.1",
        ports: Literal["free", "town"] | Mapping[str, int] = "free",
        users: Sequence[SnmpUser] | None = None,
        empty_context: bool = True,
        moving_counters: bool = True,
        startup_timeout: float = 60.0,
        die_with_parent: bool = True,
        frozen_clock: float | None = None,
    ) -> None:
        self.requested_town = town if town is not None else generate_town()
        self.frozen_clock = frozen_clock
        self._workdir_arg = Path(workdir) if workdir is not None else None
        self._cache_arg = Path(cache_dir) if cache_dir is not None else None
        self.host = host
        self.ports = ports
        self.users = tuple(users) if users is not None else self.requested_town.v3_users
        self.empty_context = empty_context
        self.moving_counters = moving_counters
        self.startup_timeout = startup_timeout
        self.die_with_parent = die_with_parent
        self.agents: dict[str, _Agent] = {}
        self.startup_seconds: float | None = None
        self._town: Town | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    # ---- lifecycle
    def start(self) -> Town:
        """Write the data files, start every agent, wait until each answers; returns the addressed town."""
        if self._town is not None:
            return self._town
        t0 = time.monotonic()
        if self._workdir_arg is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ftthnoc-sim-")
            workdir = Path(self._tmp.name)
        else:
            workdir = self._workdir_arg.resolve()
        cache_dir = (self._cache_arg or workdir / "cache").resolve()
        cache_dir.mkdir(parents=True, exist_ok=True)
        (workdir / "logs").mkdir(parents=True, exist_ok=True)
        town = self.requested_town
        dirs = write_town(
            town, workdir / "data", empty_context=self.empty_context, moving_counters=self.moving_counters
        )
        env = {} if self.frozen_clock is None else {telework.CLOCK_ENV: repr(float(self.frozen_clock))}
        variation: list[Path] = []
        if town.vpn_gateways:
            variation.append(write_variation_dir(workdir / "variation"))
            builtin = snmpsim_variation_dir()
            if builtin is not None:
                variation.append(builtin)
        for device in town.devices():
            if isinstance(self.ports, Mapping) and device.name in self.ports:
                port, fixed = self.ports[device.name], True
            elif self.ports == "town":
                port, fixed = int(device.address.rpartition(":")[2]), True
            else:
                port, fixed = free_udp_port(self.host), False
            self.agents[device.name] = _Agent(
                name=device.name,
                data_dir=dirs[device.name],
                cache_dir=cache_dir,
                log_path=workdir / "logs" / f"{device.name}.log",
                host=self.host,
                port=port,
                community=town.community,
                users=self.users,
                die_with_parent=self.die_with_parent,
                fixed_port=fixed,
                variation_dirs=tuple(variation) if isinstance(device, VpnGateway) else (),
                env=env,
            )
        try:
            for a in self.agents.values():
                a.spawn()
            self._arm_finalizer()
            _wait_ready(list(self.agents.values()), self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        self._arm_finalizer()  # respawned agents have new processes
        self._town = town.with_addresses({n: a.address for n, a in self.agents.items()})
        self.startup_seconds = time.monotonic() - t0
        return self._town

    def _arm_finalizer(self) -> None:
        if self._finalizer is not None:
            self._finalizer.detach()
        procs = [a.process for a in self.agents.values() if a.process is not None]
        self._finalizer = weakref.finalize(self, _stop_all, procs)

    def stop(self) -> None:
        """Terminate every agent (SIGTERM, then SIGKILL after 5 s) and remove the temporary workdir."""
        procs = [a.process for a in self.agents.values() if a.process is not None]
        for a in self.agents.values():
            a.process = None
        _stop_all(procs)
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        self._town = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def restart(self, olt: str, timeout: float | None = None) -> None:
        """Restart one device's agent (an OLT's, normally) on the same port and wait until it answers, e.g.
        after its data file was rewritten (``simulator.faults``): snmpsim notices a changed file only to
        the second, so a restart is the sure way to serve the new data. The other agents are not touched."""
        if self._town is None:
            raise RuntimeError("TownAgents is not running: call start() or use it as a context manager")
        agent = self.agents[olt]
        agent.stop()
        fixed, agent.fixed_port, agent.attempts = agent.fixed_port, True, 0  # the address must not change
        try:
            agent.spawn()
            self._arm_finalizer()
            _wait_ready([agent], timeout if timeout is not None else self.startup_timeout)
        finally:
            agent.fixed_port = fixed
            self._arm_finalizer()

    def __enter__(self) -> TownAgents:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- what the rest of ftthnoc needs
    @property
    def town(self) -> Town:
        if self._town is None:
            raise RuntimeError("TownAgents is not running: call start() or use it as a context manager")
        return self._town

    def address(self, olt: str) -> str:
        """The running agent's address of a device (OLT, BWA station or VPN gateway)."""
        return self.town.device(olt).address

    def data_file(self, olt: str) -> Path:
        return self.agents[olt].data_dir / f"{self.town.community}.snmprec"

    def inventory_document(self) -> dict[str, Any]:
        return self.town.inventory_document()

    def poller_config(self, interval_seconds: float = 60) -> dict[str, Any]:
        return self.town.poller_config(interval_seconds)


def start_town(town: Town | None = None, **kwargs: Any) -> TownAgents:
    """Start the town's agents and return the running ``TownAgents``; the caller calls ``stop()``
    (or uses the result in a ``with`` block). Keyword arguments go to ``TownAgents``."""
    agents = TownAgents(town, **kwargs)
    agents.start()
    return agents


# --------------------------------------------------------------------------- recorded walks
class ServedWalk:
    """A recorded walk (``.snmprec``) served by one agent; ``address`` is where it listens."""

    def __init__(
        self,
        path: Path | str,
        community: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        cache_dir: Path | str | None = None,
        users: Sequence[SnmpUser] = DEMO_V3_USERS,
        startup_timeout: float = 30.0,
        empty_context: bool = True,
        die_with_parent: bool = True,
    ) -> None:
        self.source = Path(path)
        self.community = community if community is not None else self.source.stem
        self._tmp = tempfile.TemporaryDirectory(prefix="ftthnoc-walk-")
        root = Path(self._tmp.name)
        data = root / "data"
        data.mkdir()
        shutil.copyfile(self.source, data / f"{self.community}.snmprec")
        if empty_context and self.community:
            shutil.copyfile(self.source, data / EMPTY_CONTEXT_FILE)
        cache = Path(cache_dir).resolve() if cache_dir is not None else root / "cache"
        cache.mkdir(parents=True, exist_ok=True)
        self._agent = _Agent(
            name=self.source.name,
            data_dir=data,
            cache_dir=cache,
            log_path=root / "agent.log",
            host=host,
            port=port if port is not None else free_udp_port(host),
            community=self.community,
            users=users,
            die_with_parent=die_with_parent,
            fixed_port=port is not None,
        )
        self._startup_timeout = startup_timeout
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def start(self) -> ServedWalk:
        try:
            self._agent.spawn()
            _wait_ready([self._agent], self._startup_timeout)
        except BaseException:
            self.stop()
            raise
        assert self._agent.process is not None
        self._finalizer = weakref.finalize(self, _stop_all, [self._agent.process])
        return self

    def stop(self) -> None:
        self._agent.stop()
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        self._tmp.cleanup()

    @property
    def host(self) -> str:
        return self._agent.host

    @property
    def port(self) -> int:
        return self._agent.port

    @property
    def address(self) -> str:
        return self._agent.address

    def __enter__(self) -> ServedWalk:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve_walk(path: Path | str, community: str | None = None, **kwargs: Any) -> ServedWalk:
    """Serve a recorded walk, e.g. ``peer-data/librenms/zxa10_c320.snmprec``, under ``community``
    (default: the file's stem) on a free port. Returns the started agent; use it in a ``with`` block::

        with serve_walk(".../zxa10_c320.snmprec", "public") as walk:
            poll(walk.address, community="public")
    """
    return ServedWalk(path, community, **kwargs).start()
