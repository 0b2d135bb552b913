"""The API app served by uvicorn in a thread of the test's own process, on a free loopback port: what the
browser tests and Grafana's Infinity test ask over real HTTP."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from tests.waiting import wait_until


@contextlib.contextmanager
def served(app: Any, name: str) -> Iterator[str]:
    """Yields the base URL (``http://127.0.0.1:PORT``) while ``app`` serves; stops it after. Port 0: the
    kernel picks the port as uvicorn binds, so no other process can take it in between."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), 15, "uvicorn to start")
    if not server.started:
        pytest.fail("uvicorn did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
