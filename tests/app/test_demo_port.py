"""The demo serves its web pages on a fixed address (127.0.0.1:8080) so that the printed address is the same
every run; when that port is taken it says so and takes a free one, and an address asked for that is taken
is one clear error before anything starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli.demo import DEFAULT_API_LISTEN, choose_api_listen, port_is_free
from ftthnoc.errors import ConfigError


@pytest.fixture
def taken() -> Iterator[int]:
    """A port on 127.0.0.1 that a listener holds for the test."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def _free() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_default_is_a_fixed_loopback_port() -> None:
    assert DEFAULT_API_LISTEN == "127.0.0.1:8080"


def test_a_free_default_is_used_as_it_is() -> None:
    port = _free()
    assert choose_api_listen(None, f"127.0.0.1:{port}") == (f"127.0.0.1:{port}", None)


def test_a_taken_default_falls_back_to_a_free_port_and_says_so(taken: int) -> None:
    address, warning = choose_api_listen(None, f"127.0.0.1:{taken}")
    host, _, port = address.rpartition(":")
    assert host == "127.0.0.1" and int(port) != taken and port_is_free(host, int(port))
    assert warning is not None and f"127.0.0.1:{taken} is taken" in warning and address in warning
    assert "--api-listen" in warning


def test_an_address_asked_for_is_kept_or_refused_clearly(taken: int) -> None:
    free = _free()
    assert choose_api_listen(f"127.0.0.1:{free}") == (f"127.0.0.1:{free}", None)
    assert choose_api_listen("127.0.0.1:0") == ("127.0.0.1:0", None)
    with pytest.raises(ConfigError, match=rf"cannot serve the web pages on 127\.0\.0\.1:{taken}: the port is taken"):
        choose_api_listen(f"127.0.0.1:{taken}")


def test_the_demo_refuses_a_taken_api_address_before_starting_the_town(taken: int, tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "app", "demo", "--onus", "100", "--api-listen", f"127.0.0.1:{taken}"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path,
                         env={**os.environ, "FTTHNOC_DATA_DIR": str(tmp_path / "var")})  # fmt: skip
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert lines == [f"ftthnoc: cannot serve the web pages on 127.0.0.1:{taken}: the port is taken or not ours to "
                     "bind; choose another with --api-listen HOST:PORT (port 0 picks a free one)"], run.stderr
    assert not (tmp_path / "var" / "demo" / "agents").exists()  # nothing of the town was started
