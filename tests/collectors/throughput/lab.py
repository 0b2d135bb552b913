"""The town's measurement server for the throughput tests: the real ``iperf3 -s`` in a network namespace
behind a veth link that ``tc tbf`` shapes to a rate in both directions (the probe lab's ``Lab`` makes and
removes the namespace and link; netem is not available on these kernels, tbf is).

Traffic only ever goes to the namespace the test made, over its own /24 of 10.213.0.0/16.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

import pytest

from tests.collectors.probes.netns import Lab, run_in
from tests.waiting import wait_until

PORT = 5201


@dataclass(frozen=True, slots=True)
class ShapedServer:
    address: str
    port: int
    rate_mbit: int
    process: subprocess.Popen[str]

    @property
    def server(self) -> str:
        return f"{self.address}:{self.port}"


def missing_tools() -> str | None:
    """Why the shaped-link tests cannot run here (for ``pytest.skip``), or None."""
    for tool, package in (("iperf3", "iperf3"), ("ip", "iproute2"), ("tc", "iproute2")):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian package {package}; ./run test installs it)"
    return None


def require_tools() -> None:
    reason = missing_tools()
    if reason is not None:
        pytest.skip(reason)


def tbf(device: str, rate_mbit: int, ns: str | None = None) -> None:
    """Shape ``device``'s egress to ``rate_mbit`` (a bucket of 10 ms at the rate, at least 32 KB)."""
    burst = max(32_000, rate_mbit * 1_000_000 // 8 // 100)
    argv = ["tc", "qdisc", "replace", "dev", device, "root", "tbf", "rate", f"{rate_mbit}mbit", "burst",
            str(burst), "latency", "50ms"]
    proc = subprocess.run(["ip", "netns", "exec", ns, *argv] if ns else argv, capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        pytest.skip(f"tc tbf refused here: {proc.stderr.strip()}")


def listening(ns: str, port: int) -> bool:
    return f":{port}" in run_in(ns, "ss", "-Hltn", f"sport = :{port}", check=False)


def shaped_server(lab: Lab, rate_mbit: int) -> ShapedServer:
    """``iperf3 -s`` in a new namespace whose link is shaped to ``rate_mbit`` both ways, ready to test."""
    host, link = lab.veth_host()
    tbf(link.root_if, rate_mbit)  # towards the server: the school's upload
    tbf("eth0", rate_mbit, ns=host.ns)  # from the server: the school's download
    proc = subprocess.Popen(["ip", "netns", "exec", host.ns, "iperf3", "--server", "--port", str(PORT)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lab.procs.append(proc)
    wait_until(lambda: proc.poll() is not None or listening(host.ns, PORT), 10.0,
               f"iperf3 -s listening in {host.ns}")
    if proc.poll() is not None:
        raise RuntimeError(f"iperf3 -s exited {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
    return ShapedServer(host.address, PORT, rate_mbit, proc)
