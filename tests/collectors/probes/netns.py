"""Hosts in network namespaces for the probe tests and the probe benchmark.

Every address lives in the private range 10.213.0.0/16, on veth pairs and bridges this module creates,
with the root-namespace end named ``ftp<pid>…`` so that leftovers of a killed run are recognised (by a
dead pid) and removed by the next one. A ``Lab`` removes everything it made when it closes, whatever
happened in between. Subnets are handed out under a file lock, so two test runs on one machine never
put the same /24 on two links.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from tests.waiting import scaled

RANGE = ipaddress.IPv4Network("10.213.0.0/16")
#: /24s 10.213.1.0 … 10.213.127.0 are for tests and benchmark links; the bench's host block lies above
TEST_SUBNETS = range(1, 128)
_LOCK_PATH = "/run/lock/ftthnoc-probe-lab.lock" if os.path.isdir("/run/lock") else "/tmp/ftthnoc-probe-lab.lock"
_NAME = re.compile(r"^ftp(\d+)[a-z]")


class NetnsRefused(Exception):
    """The kernel (or missing privileges) refused a namespace: ``str()`` is its own reason."""


def ip(*args: str, ns: str | None = None, check: bool = True, input: str | None = None) -> str:
    argv = ["ip", *(["-n", ns] if ns else []), *args]
    proc = subprocess.run(argv, capture_output=True, text=True, input=input, check=False)
    if check and proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, argv, proc.stdout, proc.stderr)
    return proc.stdout


def run_in(ns: str, *argv: str, check: bool = True) -> str:
    proc = subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, proc.stdout, proc.stderr)
    return proc.stdout


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers() -> None:
    """Namespaces and links of runs whose process is gone (a killed test run, a crashed benchmark)."""
    for line in ip("netns", "list", check=False).splitlines():
        name = line.split()[0] if line.strip() else ""
        m = _NAME.match(name)
        if m and not _pid_alive(int(m.group(1))):
            ip("netns", "del", name, check=False)
    try:
        links = json.loads(ip("-j", "link", "show", check=False) or "[]")
    except json.JSONDecodeError:
        links = []
    for link in links:
        name = str(link.get("ifname", ""))
        m = _NAME.match(name)
        if m and not _pid_alive(int(m.group(1))):
            ip("link", "del", name, check=False)


@contextlib.contextmanager
def alloc_lock() -> Iterator[None]:
    with open(_LOCK_PATH, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _networks_in_use() -> list[ipaddress.IPv4Network]:
    used: list[ipaddress.IPv4Network] = []
    for entry in json.loads(ip("-j", "-4", "addr", "show") or "[]"):
        for a in entry.get("addr_info", []):
            used.append(ipaddress.IPv4Network(f"{a['local']}/{a['prefixlen']}", strict=False))
    for r in json.loads(ip("-j", "-4", "route", "show") or "[]"):
        dst = r.get("dst", "")
        if dst and dst != "default":
            used.append(ipaddress.IPv4Network(dst if "/" in dst else f"{dst}/32", strict=False))
    return used


def free_subnet(prefix: int = 24, candidates: Sequence[int] = TEST_SUBNETS) -> ipaddress.IPv4Network:
    """A /24 (or smaller) of the range that no root-namespace address or route touches. Call under the lock."""
    used = _networks_in_use()
    for k in candidates:
        net = ipaddress.IPv4Network(f"10.213.{k}.0/{prefix}")
        if not any(net.overlaps(u) for u in used):
            return net
    raise RuntimeError("no free /24 left in 10.213.0.0/16")


@dataclass(frozen=True, slots=True)
class Host:
    """A namespace with one interface ``eth0`` on a link to the root namespace."""

    ns: str
    address: str
    mac: str


@dataclass(slots=True)
class Link:
    """A veth pair or a bridge in the root namespace, with its subnet and the root-side address."""

    root_if: str
    subnet: ipaddress.IPv4Network
    root_address: str


@dataclass
class Lab:
    """Namespaces, links and processes of one test; ``close()`` (or the ``with`` block) removes them all."""

    namespaces: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    procs: list[subprocess.Popen[str]] = field(default_factory=list)
    _n: int = 0

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _name(self, letter: str) -> str:
        self._n += 1
        return f"ftp{os.getpid()}{letter}{self._n}"

    def namespace(self) -> str:
        name = self._name("n")
        try:
            ip("netns", "add", name)
        except subprocess.CalledProcessError as exc:
            raise NetnsRefused(exc.stderr.strip() or f"ip netns add exited {exc.returncode}") from None
        self.namespaces.append(name)
        ip("link", "set", "lo", "up", ns=name)
        return name

    # ------------------------------------------------------------------ links
    def veth_host(self, mac: str | None = None, host_index: int = 2) -> tuple[Host, Link]:
        """A namespace host on its own /24: root end ``.1``, host ``.<host_index>``."""
        ns = self.namespace()
        with alloc_lock():
            subnet = free_subnet()
            root_if = self._name("v")
            ip("link", "add", root_if, "type", "veth", "peer", "name", "eth0", "netns", ns)
            self.links.append(root_if)
            root_addr = str(subnet.network_address + 1)
            ip("addr", "add", f"{root_addr}/{subnet.prefixlen}", "dev", root_if)
        host_addr = str(subnet.network_address + host_index)
        self._configure(ns, host_addr, subnet.prefixlen, mac, root_addr)
        ip("link", "set", root_if, "up")
        return Host(ns, host_addr, self.mac_of(ns)), Link(root_if, subnet, root_addr)

    def bridge(self) -> Link:
        """A bridge in the root namespace with the /24's ``.1``; hosts join it with ``bridge_host``."""
        with alloc_lock():
            subnet = free_subnet()
            br = self._name("b")
            ip("link", "add", br, "type", "bridge", "stp_state", "0", "forward_delay", "0")
            self.links.append(br)
            root_addr = str(subnet.network_address + 1)
            ip("addr", "add", f"{root_addr}/{subnet.prefixlen}", "dev", br)
        ip("link", "set", br, "up")
        return Link(br, subnet, root_addr)

    def bridge_host(self, bridge: Link, host_index: int, mac: str | None = None) -> Host:
        ns = self.namespace()
        root_if = self._name("p")
        ip("link", "add", root_if, "type", "veth", "peer", "name", "eth0", "netns", ns)
        self.links.append(root_if)
        ip("link", "set", root_if, "master", bridge.root_if)
        ip("link", "set", root_if, "up")
        address = str(bridge.subnet.network_address + host_index)
        self._configure(ns, address, bridge.subnet.prefixlen, mac, bridge.root_address)
        return Host(ns, address, self.mac_of(ns))

    def _configure(self, ns: str, address: str, prefixlen: int, mac: str | None, gateway: str) -> None:
        if mac:
            ip("link", "set", "dev", "eth0", "address", mac, ns=ns)
        ip("addr", "add", f"{address}/{prefixlen}", "dev", "eth0", ns=ns)
        ip("link", "set", "eth0", "up", ns=ns)
        ip("route", "add", "default", "via", gateway, ns=ns)

    @staticmethod
    def mac_of(ns: str) -> str:
        info = json.loads(ip("-j", "link", "show", "eth0", ns=ns))
        return str(info[0]["address"])

    # ------------------------------------------------------------------ inside a namespace
    def nft(self, ns: str, ruleset: str) -> None:
        proc = subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=ruleset, text=True,
                              capture_output=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"nft refused the ruleset: {proc.stderr.strip()}")

    def sysctl(self, ns: str, setting: str) -> None:
        run_in(ns, "sysctl", "-q", "-w", setting)

    def spawn(self, ns: str, argv: Sequence[str], ready: str = "ready", timeout: float = 10.0) -> subprocess.Popen[str]:
        """Start a process in the namespace and wait for it to print ``ready`` on a line of its own."""
        proc = subprocess.Popen(["ip", "netns", "exec", ns, *argv], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.procs.append(proc)
        deadline = time.monotonic() + scaled(timeout)
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.strip() == ready:
                return proc
            if not line and proc.poll() is not None:
                err = proc.stderr.read() if proc.stderr else ""
                raise RuntimeError(f"{argv[0]} in {ns} exited {proc.returncode}: {err.strip()}")
        raise RuntimeError(f"{argv[0]} in {ns} did not get ready within {timeout} s")

    def python(self, ns: str, script: str, *args: str) -> subprocess.Popen[str]:
        return self.spawn(ns, [sys.executable, "-c", script, *args])

    # ------------------------------------------------------------------ teardown
    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        self.procs.clear()
        for name in reversed(self.namespaces):
            ip("netns", "del", name, check=False)
        self.namespaces.clear()
        for link in reversed(self.links):  # a veth goes with its namespace peer; a bridge needs deleting
            ip("link", "del", link, check=False)
        self.links.clear()


def refusal() -> str | None:
    """None if namespaces can be made here, else the kernel's reason (for ``pytest.skip``)."""
    name = f"ftp{os.getpid()}c0"
    try:
        proc = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return "the ip command (iproute2) is not installed"
    if proc.returncode != 0:
        return proc.stderr.strip() or f"ip netns add exited {proc.returncode}"
    ip("netns", "del", name, check=False)
    return None


# ---------------------------------------------------------------------------- processes run in namespaces
#: An echo responder that answers after a delay (ms, cycling through a comma-separated list), for RTTs
#: and jitter the kernel's own responder cannot produce (no netem here). Run it with the namespace's
#: kernel responder off (``net.ipv4.icmp_echo_ignore_all=1``).
DELAYED_RESPONDER = r"""
import heapq, select, socket, struct, sys, time
delays = [float(x) / 1000 for x in sys.argv[1].split(",")]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF
print("ready", flush=True)
queue, n = [], 0
while True:
    wait = max(0.0, queue[0][0] - time.monotonic()) if queue else None
    readable, _, _ = select.select([s], [], [], wait)
    if readable:
        data, addr = s.recvfrom(65535)
        ihl = (data[0] & 15) * 4
        icmp = data[ihl:]
        if icmp[0] == 8:
            reply = b"\0\0\0\0" + icmp[4:]
            reply = reply[:2] + struct.pack("!H", csum(reply)) + reply[4:]
            heapq.heappush(queue, (time.monotonic() + delays[n % len(delays)], n, reply, addr[0]))
            n += 1
    now = time.monotonic()
    while queue and queue[0][0] <= now:
        _, _, reply, dst = heapq.heappop(queue)
        s.sendto(reply, (dst, 0))
"""

#: A TCP listener on (address, port) that never accepts: the kernel completes handshakes by itself.
LISTENER = r"""
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
print("ready", flush=True)
time.sleep(3600)
"""
