"""Start and stop the simulated town's SNMP agents: real ``snmpsim-command-responder`` processes on
loopback, each agent an SNMP engine of its own.

Processes. Each OLT's agent runs in its own process: the OLTs carry most of the varbinds, and the
poller's wall time depends on walking them in parallel. The small devices (BWA stations, VPN gateways,
school routers) are engines of two shared processes (``SMALL_DEVICE_PROCESSES``): snmpsim starts a new
engine at each ``--v3-engine-id`` on its command line, with its own ``--data-dir``,
``--agent-udpv4-endpoint`` and USM users. ``TownAgents(olt_processes=K)`` groups the OLTs the same way,
into K processes (a simulated prefecture's 50 OLTs; the town's default stays one process per OLT). The
demo's town is 7 processes instead of 22, and its 17 small devices cost two interpreter start-ups
instead of 17. Each agent keeps its engine ID for its life, restarts included (as a real OLT does:
SNMPv3 managers that know the old engine ID would otherwise get no answer from a restarted agent).

Ports. ftthnoc binds each agent's UDP socket itself (``reserve_udp_port``) and the snmpsim process
inherits it: the child's prelude (``_BOOT``) makes pysnmp serve an endpoint from the inherited socket
instead of binding its own. There is no moment between choosing a free port and binding it, so no bind
race to lose (snmpsim runs on silently when its own bind fails, and used to be killed and moved on a
guess); a fixed port that is taken fails at once, in the parent, with a clear message; and a restarted
process gets the very same socket, so the port cannot be taken while it restarts.

Readiness is asked, not timed: a GET of ``sysName`` to every agent. The socket exists from the start, so
a request sent while snmpsim still indexes its data waits in the socket and is answered as soon as the
agent serves; the probe is re-sent with a growing gap. Waiting gives up only on evidence: the process
exited (the error carries its log), or the deadline passed — a deadline proportional to the work still
to do (the records of the data files still to index, the engines and processes still to start) and
stretched by the machine's load, renewed whenever a process comes up (``startup_budget``).

SNMPv3 context: snmpsim selects the data file by context name. ``-n public`` reaches ``public.snmprec``;
an *empty* context (what real OLTs and our poller use) reaches nothing unless a file named
``self.snmprec`` exists, and without one the agent drops the request silently (the manager sees a
timeout, not an error). ``snmprec.write_olt`` therefore writes ``self.snmprec`` beside
``public.snmprec``. Side effect: the agent also answers v2c with an empty community.

Variation modules: the VPN gateway's sessions come from ``simulator/variation/telework.py``. snmpsim's
``--variation-modules-dir`` *replaces* its search path and holds for the whole process, so the process
serving the gateway gets two directories, each holding only a copy of one file (snmpsim would load any
other ``.py`` there, ``__init__.py`` included): that one, and snmpsim's ``numeric`` (it moves the
counters), the only directory of every other agent.
``frozen_clock`` sets ``FTTHNOC_SIM_CLOCK`` for the agents, so that a test knows the time the curve is
read at; an agent's ``env`` is set in its process's environment.
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from collectors.snmp import ber
from ftthnoc.errors import FtthnocError
from simulator.devices import Olt, VpnGateway
from simulator.model import Town
from simulator.shareddata import SharedData
from simulator.shareddata import from_environment as shared_data_from_environment
from simulator.snmprec import EMPTY_CONTEXT_FILE, write_town
from simulator.specs import DEMO_V3_USERS, SnmpUser
from simulator.town import generate_town
from simulator.variation import telework

SYS_NAME = (1, 3, 6, 1, 2, 1, 1, 5, 0)
_SNMPSIM_AUTH = {"SHA": "SHA", "SHA256": "SHA256"}
_SNMPSIM_PRIV = {"AES": "AES", "AES256": "AES256BLMT"}  # poller's AES256 = Blumenthal = net-snmp AES-256
#: the name of the processes that serve the town's small devices (logs ``logs/small-devices-1.log`` ...)
SMALL_DEVICES = "small-devices"
#: How many processes share the small devices. Two: their start-up costs two interpreters, not one per
#: device, and a poll of the small devices still gets two cores' share of a busy machine (one process
#: would serve every small device's requests on one core, behind the OLTs').
SMALL_DEVICE_PROCESSES = 2
#: the name of the processes that share OLTs when ``TownAgents(olt_processes=K)`` groups them
OLT_GROUP = "olts"

# Run in the child: die with the parent (SIGTERM) even if it is killed with SIGKILL, so an aborted test
# run leaves no agents behind (the parent-pid check closes the race with an early death); serve each
# endpoint from the socket the parent bound and passed down; tick pysnmp's dispatcher every 5 s instead of
# every 0.1 s (a responder keeps no timers: the ticks only expire caches, and snmpEngineTime is read from
# the clock), since ten wake-ups a second cost an idle agent 3.3 ms of CPU a second: 0.86 CPU-s per 20 s
# for the 13 processes of a 600-ONU town, then 0.00, and some 55 CPU-s of a test run's agents idling
# between polls; run pysnmp's MIB modules and snmpsim's variation modules from Python's bytecode cache
# (``__pycache__``, checked against the source as imports are): pysnmp compiled each MIB from source at every
# start, twice in a Python without ``-O`` (to read it, then again through ``runpy``), half an agent's start;
# then run snmpsim's responder.
# argv: parent pid, die (1/0), HOST:PORT:FD,..., the responder's path (its argv[0]), its options.
_BOOT = r"""
import os, signal, socket, sys
parent, die, held_spec, script = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3], sys.argv[4]
if die:
    import ctypes
    ctypes.CDLL(None).prctl(1, int(signal.SIGTERM))
    if os.getppid() != parent:
        os._exit(70)
held = {}
for item in filter(None, held_spec.split(",")):
    host, port, fd = item.rsplit(":", 2)
    held[(host, int(port))] = int(fd)
from pysnmp.carrier.asyncio.dgram import udp
if not hasattr(udp.UdpTransport, "open_server_mode"):
    sys.stderr.write("ftthnoc: this pysnmp has no UdpTransport.open_server_mode to hand the sockets to\n")
    os._exit(71)
_open = udp.UdpTransport.open_server_mode
def open_server_mode(self, iface=None, sock=None):
    fd = held.pop(tuple(iface), None) if sock is None and iface is not None else None
    if fd is None:
        return _open(self, iface, sock)
    return _open(self, sock=socket.socket(fileno=fd))
udp.UdpTransport.open_server_mode = open_server_mode
from pysnmp.carrier.asyncio.dispatch import AsyncioDispatcher
_init = AsyncioDispatcher.__init__
def __init__(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    self.set_timer_resolution(5.0)
AsyncioDispatcher.__init__ = __init__
import importlib.machinery
def _cached_code(path):
    return importlib.machinery.SourceFileLoader("_ftthnoc_mib", path).get_code("_ftthnoc_mib")
def _compile(source, filename, mode, *args, **kwargs):
    if mode == "exec" and isinstance(filename, str) and os.path.isabs(filename) and filename.endswith(".py"):
        return _cached_code(filename)
    return compile(source, filename, mode, *args, **kwargs)
class _Runpy:
    @staticmethod
    def run_path(path, init_globals=None, run_name=None):
        scope = {"__name__": run_name or "<run_path>", "__file__": path, **(init_globals or {})}
        exec(_cached_code(path), scope)
        return scope
from pysnmp.smi import builder as _builder
import snmpsim.variation as _variation
_read = _builder.DirMibSource.read
def _read_cached(self, name):
    path = self.full_path(name, ".py")
    return (_cached_code(path), ".py") if os.path.isfile(path) else _read(self, name)
_builder.DirMibSource.read = _read_cached
_builder.runpy = _Runpy
_variation.compile = _compile
from snmpsim.commands.responder import main
sys.argv = [script, *sys.argv[5:]]
sys.exit(main())
"""

# What starting an agent costs, in CPU seconds on one idle core (snmpsim 1.2.2, Python 3.11, measured
# here): the interpreter with pysnmp and snmpsim (~1 s before the bytecode cache and the one variation
# module, ~0.13 s since; kept at 1 s: it is the base of the start-up deadline, which a loaded machine needs
# more than an idle one), each engine (USM keys, contexts), and the index snmpsim builds of every record of
# every data file (~35 µs a record with the dbm.dumb that a Python without gdbm has; both data files of a
# device are indexed: ``public`` and ``self``).
PROCESS_CPU_SECONDS = 1.0
ENGINE_CPU_SECONDS = 0.05
RECORD_CPU_SECONDS = 35e-6
#: the deadline is this many times the estimate on an idle machine, plus ``BUDGET_FLOOR_SECONDS``
BUDGET_MARGIN = 5.0
BUDGET_FLOOR_SECONDS = 20.0


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


def snmpsim_python(script: Path) -> str:
    """The interpreter that runs the responder: this one when it sits beside it, else the script's own
    (its ``#!`` line), so that snmpsim imports from where it was installed."""
    if script.parent == Path(sys.executable).parent:
        return sys.executable
    with contextlib.suppress(OSError), open(script, "rb") as f:
        first = f.readline().decode("utf-8", "replace")
        if first.startswith("#!"):
            words = first[2:].split()
            if len(words) == 1 and Path(words[0]).is_file():
                return words[0]
    return sys.executable


def snmpsim_variation_dir() -> Path | None:
    """snmpsim's own variation modules (``numeric``, ...), found without importing snmpsim."""
    spec = importlib.util.find_spec("snmpsim")
    if spec is None or spec.origin is None:
        return None
    here = Path(spec.origin).parent / "variation"
    return here if here.is_dir() else None


def write_variation_dir(directory: Path, module: Path | None = None) -> Path:
    """A directory with only one variation module in it (the town's ``telework`` unless ``module`` names
    another file), for ``--variation-modules-dir``."""
    module = module if module is not None else Path(telework.__file__)
    directory.mkdir(parents=True, exist_ok=True)
    source = module.read_bytes()
    target = directory / module.name
    if not target.exists() or target.read_bytes() != source:
        target.write_bytes(source)
    return directory


def reserve_udp_port(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A UDP socket bound to ``host:port`` (port 0: one the kernel picks), held by ftthnoc for an agent's
    life and handed to its process. A port already in use is an ``AgentStartError``."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((host, port))
    except OSError as exc:
        s.close()
        raise AgentStartError(f"could not bind UDP port {port} on {host}: {exc.strerror or exc}") from exc
    return s


# --------------------------------------------------------------------------- a tiny SNMP GET
def snmp_get_packet(community: str, oid: Sequence[int], request_id: int) -> bytes:
    """An SNMPv2c GetRequest, enough to tell whether an agent answers (the poller's own codec)."""
    return ber.encode_request(community.encode("utf-8"), ber.GET, request_id, [tuple(oid)])


def _is_response(data: bytes, request_id: int) -> bool:
    try:
        return ber.decode_response(data).request_id == request_id
    except ber.BerError:
        return False


# --------------------------------------------------------------------------- agents and processes
@dataclass(eq=False)
class _Agent:
    """One simulated device: one SNMP engine, its data directory and the socket of its endpoint."""

    name: str
    data_dir: Path
    sock: socket.socket
    community: str
    users: Sequence[SnmpUser]
    #: searched for variation modules, in order (empty: snmpsim's default path); per process in snmpsim
    variation_dirs: Sequence[Path] = ()
    #: set in the environment of the agent's process (e.g. the frozen clock of the ``telework`` module)
    env: Mapping[str, str] = field(default_factory=dict)
    #: the process serving this agent (set when the process is made)
    host_process: _Process | None = None
    request_id: int = field(default_factory=lambda: int.from_bytes(os.urandom(3), "big") + 1)
    #: Fixed for the agent's life, restarts included (as a real OLT's): SNMPv3 managers that know the
    #: old engine ID would otherwise get no answer at all from a restarted agent.
    engine_id: str = field(default_factory=lambda: "80001f8805" + os.urandom(8).hex())
    #: where the socket is bound (kept after it is closed)
    host: str = field(init=False)
    port: int = field(init=False)
    _records: int | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.host, self.port = self.sock.getsockname()[:2]

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The running snmpsim process that serves this agent (shared by the small devices)."""
        return self.host_process.process if self.host_process is not None else None

    @property
    def attempts(self) -> int:
        """How many times this agent's process was started (restarts included)."""
        return self.host_process.attempts if self.host_process is not None else 0

    @property
    def log_path(self) -> Path | None:
        return self.host_process.log_path if self.host_process is not None else None

    def records(self) -> int:
        """Records in this agent's data files: what snmpsim indexes at start-up."""
        if self._records is None:
            self._records = sum(
                f.read_bytes().count(b"\n") for f in sorted(self.data_dir.glob("*.snmprec")) if f.is_file()
            )
        return self._records

    def engine_options(self) -> list[str]:
        opts = [
            f"--v3-engine-id={self.engine_id}",
            f"--data-dir={self.data_dir}",
            f"--agent-udpv4-endpoint={self.address}",
        ]
        for u in self.users:
            opts += [
                f"--v3-user={u.username}",
                f"--v3-auth-key={u.password}",
                f"--v3-auth-proto={_SNMPSIM_AUTH[u.auth_protocol]}",
                f"--v3-priv-key={u.priv_password}",
                f"--v3-priv-proto={_SNMPSIM_PRIV[u.priv_protocol]}",
            ]
        return opts


@dataclass(eq=False)
class _Process:
    """One snmpsim process serving one or more agents, each an engine of its own."""

    name: str
    agents: list[_Agent]
    cache_dir: Path
    log_path: Path
    die_with_parent: bool
    process: subprocess.Popen[bytes] | None = None
    attempts: int = 0

    def __post_init__(self) -> None:
        for a in self.agents:
            a.host_process = self

    def variation_dirs(self) -> list[Path]:
        dirs: list[Path] = []
        for a in self.agents:
            dirs += [d for d in a.variation_dirs if d not in dirs]
        return dirs

    def command(self) -> list[str]:
        script = snmpsim_executable()
        held = ",".join(f"{a.host}:{a.port}:{a.sock.fileno()}" for a in self.agents)
        die = self.die_with_parent and sys.platform.startswith("linux")
        cmd = [snmpsim_python(script), "-c", _BOOT, str(os.getpid()), "1" if die else "0", held, str(script),
               f"--cache-dir={self.cache_dir}", "--log-level=error"]  # info logs every request and the USM keys
        cmd += [f"--variation-modules-dir={d}" for d in self.variation_dirs()]
        for a in self.agents:
            cmd += a.engine_options()
        return cmd

    def spawn(self) -> None:
        self.attempts += 1
        env = {**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}
        for a in self.agents:
            env.update(a.env)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                pass_fds=[a.sock.fileno() for a in self.agents],
            )

    def cpu_estimate(self) -> float:
        """CPU seconds this process needs to start on an idle core (see ``PROCESS_CPU_SECONDS``)."""
        return (PROCESS_CPU_SECONDS + ENGINE_CPU_SECONDS * len(self.agents)
                + RECORD_CPU_SECONDS * sum(a.records() for a in self.agents))

    def log_tail(self, limit: int = 2000) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return text[-limit:].strip() or "(empty log)"

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


def _stop_all(processes: Sequence[_Process]) -> None:
    """SIGTERM to every process first, then wait for each (SIGKILL after 5 s)."""
    running = [p.process for p in processes if p.process is not None]
    for p in processes:
        p.process = None
    for proc in running:
        with contextlib.suppress(OSError):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
    for proc in running:
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            _stop_process(proc)


def _release(processes: Sequence[_Process], sockets: Iterable[socket.socket]) -> None:
    """Stop the processes, then close the sockets they served (the ports are free again)."""
    _stop_all(processes)
    for s in sockets:
        s.close()


def startup_budget(processes: Iterable[_Process]) -> float:
    """Seconds to wait for these processes to answer before giving up: ``BUDGET_FLOOR_SECONDS`` plus
    ``BUDGET_MARGIN`` times their CPU estimate, stretched by the load (runnable tasks per core, over
    the last minute): on a busy machine every process gets a smaller share of a core."""
    work = sum(p.cpu_estimate() for p in processes)
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - no load average on this platform
        load = 0.0
    stretch = max(1.0, load / (os.cpu_count() or 1))
    return BUDGET_FLOOR_SECONDS + BUDGET_MARGIN * work * stretch


def _wait_ready(processes: Sequence[_Process], timeout: float | None = None) -> None:
    """Ask every agent of these processes (a GET of sysName) until each answers. Gives up when a process
    exits, or when the deadline passes: ``timeout`` if given, else ``startup_budget`` of the processes
    still starting, renewed whenever one of them is up (never earlier than before)."""
    t0 = time.monotonic()
    pending = {a.name: a for p in processes for a in p.agents}
    by_addr = {(a.host, a.port): a for a in pending.values()}
    starting = list(processes)
    deadline = t0 + (timeout if timeout is not None else startup_budget(starting))
    gap = dict.fromkeys(pending, 0.1)
    next_probe = dict.fromkeys(pending, t0)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        while pending:
            now = time.monotonic()
            for p in starting:
                rc = p.process.poll() if p.process is not None else -1
                if rc is not None:
                    raise AgentStartError(
                        f"snmpsim process {p.name} exited with status {rc}; log {p.log_path}:\n{p.log_tail()}"
                    )
            if now > deadline:
                names = ", ".join(sorted(pending))
                tails = "\n".join(f"--- {p.name} ({p.log_path}):\n{p.log_tail(800)}" for p in starting)
                raise AgentStartError(
                    f"snmpsim agents did not answer within {deadline - t0:.0f} s: {names}\n{tails}"
                )
            for a in pending.values():  # a request waits in the agent's socket until it serves
                if now >= next_probe[a.name]:
                    with contextlib.suppress(OSError):
                        sock.sendto(snmp_get_packet(a.community, SYS_NAME, a.request_id), (a.host, a.port))
                    next_probe[a.name] = now + gap[a.name]
                    gap[a.name] = min(2.0, gap[a.name] * 2)
            wake = min([deadline, *(next_probe[n] for n in pending)]) - time.monotonic()
            ready, _, _ = select.select([sock], [], [], min(0.25, max(0.01, wake)))
            while ready:
                try:
                    data, addr = sock.recvfrom(65535)
                except BlockingIOError:
                    break
                a2 = by_addr.get((addr[0], addr[1]))
                if a2 is None or a2.name not in pending or not _is_response(data, a2.request_id):
                    continue
                del pending[a2.name]
                up = [p for p in starting if not any(a.name in pending for a in p.agents)]
                if up:
                    starting = [p for p in starting if p not in up]
                    if timeout is None and starting:  # evidence of progress: budget what is left
                        deadline = max(deadline, time.monotonic() + startup_budget(starting))


def _share(agents: Sequence[_Agent], processes: int, name: str = SMALL_DEVICES) -> list[tuple[str, list[_Agent]]]:
    """Deal the agents to at most ``processes`` groups named ``name-1`` ..., the largest data first (even
    start-up work)."""
    groups: list[list[_Agent]] = [[] for _ in range(min(processes, len(agents)))]
    for a in sorted(agents, key=lambda a: -a.records()):
        min(groups, key=lambda g: sum(x.records() for x in g)).append(a)
    order = {a.name: i for i, a in enumerate(agents)}
    return [(f"{name}-{k + 1}", sorted(g, key=lambda a: order[a.name])) for k, g in enumerate(groups)]


# --------------------------------------------------------------------------- the town
class TownAgents:
    """The town's agents as a context manager::

        with TownAgents(generate_town(onus=600)) as agents:
            agents.town.olts[0].address          # "127.0.0.1:40123"
            agents.poller_config()               # points at the running agents

    Every device of the town gets its agent: the OLTs (a process each), the BWA stations, the VPN
    gateways and the school routers (engines of ``SMALL_DEVICE_PROCESSES`` shared processes).
    ``ports="free"`` (default) picks free ports; ``"town"`` uses the town's own placeholder ports
    (stable addresses for a demo); a mapping fixes chosen devices' ports. ``frozen_clock`` (Unix
    seconds) stops the clock of the gateway's working-day curve, for tests that compute its value.
    ``startup_timeout`` (seconds) caps the wait for the agents; by default it scales with the work and
    the machine's load (``startup_budget``). ``olt_processes=K`` serves the OLTs as engines of K shared
    processes instead of one each (a prefecture's 50 OLTs in a few interpreters; each process then
    answers its OLTs' requests on one core, one after the other). ``workdir`` defaults to a temporary
    directory removed on stop; pass a persistent ``workdir`` *and* ``cache_dir`` to reuse snmpsim's
    index across runs (data files are rewritten only when they change). ``shared_data`` (default: the
    store ``FTTHNOC_SIM_SHARED_DATA`` names, if any) serves each device from a content-addressed copy
    indexed once for every ``TownAgents`` of the same data (``simulator.shareddata``).

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
        startup_timeout: float | None = None,
        die_with_parent: bool = True,
        frozen_clock: float | None = None,
        olt_processes: int | None = None,
        shared_data: SharedData | None = None,
    ) -> None:
        if olt_processes is not None and olt_processes < 1:
            raise ValueError(f"olt_processes must be >= 1 or None, not {olt_processes}")
        self.olt_processes = olt_processes
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
        #: the snmpsim processes: one per OLT, then those of the small devices (if the town has any)
        self.processes: list[_Process] = []
        self.startup_seconds: float | None = None
        self.shared = shared_data if shared_data is not None else shared_data_from_environment()
        self._private_data: dict[str, Path] = {}
        self._private_cache: Path | None = None
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
        self.agents, self.processes = {}, []
        sockets: list[socket.socket] = []
        self._finalizer = weakref.finalize(self, _release, self.processes, sockets)
        try:
            dirs = write_town(
                town, workdir / "data", empty_context=self.empty_context, moving_counters=self.moving_counters
            )
            self._private_data, self._private_cache = dict(dirs), cache_dir
            if self.shared is not None:
                dirs = {name: self.shared.place(d) for name, d in dirs.items()}
            env = {} if self.frozen_clock is None else {telework.CLOCK_ENV: repr(float(self.frozen_clock))}
            # every agent loads snmpsim's ``numeric`` alone (the moving counters), not all nine of snmpsim's
            # modules (``notification`` imports pysnmp's whole high-level API): a third of an agent's start
            builtin = snmpsim_variation_dir()
            numeric = [write_variation_dir(workdir / "variation-numeric", builtin / "numeric.py")] if builtin else []
            vpn = [*numeric, write_variation_dir(workdir / "variation")] if town.vpn_gateways else []
            for device in town.devices():
                sock = reserve_udp_port(self.host, self._port_for(device.name, device.address))
                sockets.append(sock)
                self.agents[device.name] = _Agent(
                    name=device.name,
                    data_dir=dirs[device.name],
                    sock=sock,
                    community=town.community,
                    users=self.users,
                    variation_dirs=tuple(vpn if isinstance(device, VpnGateway) else numeric),
                    env=env,
                )
            small = [self.agents[d.name] for d in town.devices() if not isinstance(d, Olt)]
            olts = [self.agents[o.name] for o in town.olts]
            groups = ([(a.name, [a]) for a in olts] if self.olt_processes is None
                      else _share(olts, self.olt_processes, OLT_GROUP))
            groups += _share(small, SMALL_DEVICE_PROCESSES)
            for name, members in groups:
                self.processes.append(_Process(
                    name=name, agents=members, cache_dir=self._cache_for(members, cache_dir),
                    log_path=workdir / "logs" / f"{name}.log", die_with_parent=self.die_with_parent,
                ))  # fmt: skip
            for p in self.processes:
                p.spawn()
            _wait_ready(self.processes, self.startup_timeout)
            self._publish_indexes(self.processes)
        except BaseException:
            self.stop()
            raise
        self._town = town.with_addresses({n: a.address for n, a in self.agents.items()})
        self.startup_seconds = time.monotonic() - t0
        return self._town

    def _cache_for(self, members: Sequence[_Agent], private: Path) -> Path:
        """The store's index cache when it holds every member's index, else the private one (built there)."""
        shared = self.shared
        if shared is not None and all(shared.holds(a.data_dir) and shared.indexed(a.data_dir) for a in members):
            return shared.cache
        return private

    def writable_data_dir(self, name: str) -> Path:
        """The device's own data directory, to rewrite (a fault) before ``restart``: never the store.
        From then on its process indexes in the private cache: a fault's data carries the time it was
        applied, so no other start would have the same to reuse."""
        agent = self.agents[name]
        if self.shared is not None and self.shared.holds(agent.data_dir):
            agent.data_dir = self._private_data[name]
            process = agent.host_process
            if process is not None and self._private_cache is not None:
                process.cache_dir = self._private_cache
        return agent.data_dir

    def _publish_indexes(self, processes: Sequence[_Process]) -> None:
        """What these processes indexed privately of the store's data, every later start reuses."""
        if self.shared is None or self._private_cache is None:
            return
        for p in processes:
            if p.cache_dir == self._private_cache:
                for a in p.agents:
                    self.shared.publish(a.data_dir, self._private_cache)

    def _port_for(self, name: str, placeholder: str) -> int:
        if isinstance(self.ports, Mapping):
            return self.ports.get(name, 0)
        if self.ports == "town":
            return int(placeholder.rpartition(":")[2])
        return 0

    def stop(self) -> None:
        """Terminate every agent (SIGTERM, then SIGKILL after 5 s), free their ports and remove the
        temporary workdir."""
        if self._finalizer is not None:
            self._finalizer()  # stops the processes and closes the sockets, once
            self._finalizer = None
        self._town = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def restart(self, olt: str, timeout: float | None = None) -> None:
        """Restart one device's agent (an OLT's, normally) on the same port and wait until it answers, e.g.
        after its data file was rewritten (``simulator.faults``): snmpsim notices a changed file only to
        the second, so a restart is the sure way to serve the new data. An OLT has its own process (unless
        ``olt_processes`` groups them: then the OLTs of its process restart with it): the other agents are
        not touched. The small devices share processes: restarting one of them restarts
        the others of its process too, each on its own port with its own engine ID (all of them answer
        again before this returns); the other processes are not touched."""
        if self._town is None:
            raise RuntimeError("TownAgents is not running: call start() or use it as a context manager")
        process = self.agents[olt].host_process
        assert process is not None
        process.stop()
        process.spawn()
        _wait_ready([process], timeout if timeout is not None else self.startup_timeout)

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
        """The running agent's address of a device (OLT, BWA station, VPN gateway or school router)."""
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
        startup_timeout: float | None = None,
        empty_context: bool = True,
        die_with_parent: bool = True,
    ) -> None:
        self.source = Path(path)
        self.community = community if community is not None else self.source.stem
        self._host, self._port_arg, self._users = host, port or 0, users
        self._tmp = tempfile.TemporaryDirectory(prefix="ftthnoc-walk-")
        root = Path(self._tmp.name)
        self._data = root / "data"
        self._data.mkdir()
        shutil.copyfile(self.source, self._data / f"{self.community}.snmprec")
        if empty_context and self.community:
            shutil.copyfile(self.source, self._data / EMPTY_CONTEXT_FILE)
        self._cache = Path(cache_dir).resolve() if cache_dir is not None else root / "cache"
        self._cache.mkdir(parents=True, exist_ok=True)
        self._log = root / "agent.log"
        self._die_with_parent = die_with_parent
        self._startup_timeout = startup_timeout
        self._process: _Process | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def start(self) -> ServedWalk:
        try:
            sock = reserve_udp_port(self._host, self._port_arg)
            agent = _Agent(name=self.source.name, data_dir=self._data, sock=sock, community=self.community,
                           users=self._users)
            self._process = _Process(name=self.source.name, agents=[agent], cache_dir=self._cache,
                                     log_path=self._log, die_with_parent=self._die_with_parent)
            self._finalizer = weakref.finalize(self, _release, [self._process], [sock])
            self._process.spawn()
            _wait_ready([self._process], self._startup_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self._tmp.cleanup()

    @property
    def _agent(self) -> _Agent:
        if self._process is None:
            raise RuntimeError("the walk is not served: call start()")
        return self._process.agents[0]

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
