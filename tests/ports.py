"""A free loopback port for a server a test starts (Prometheus, Alertmanager, VictoriaMetrics, iperf3...)."""

from __future__ import annotations

import socket


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port the kernel has free on 127.0.0.1 now (TCP unless ``kind`` says ``SOCK_DGRAM``). The server
    binds it later, so another process could take it in between: where the server can bind port 0 and tell
    its port (uvicorn, ``tests/api/served.py``), that is better."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
