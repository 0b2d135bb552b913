"""Fixtures for the probe tests: a fresh namespace lab per test, skipped with the kernel's reason."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.collectors.probes.netns import Lab, refusal, remove_leftovers


@pytest.fixture(scope="session")
def netns_ok() -> None:
    reason = refusal()
    if reason is not None:
        pytest.skip(f"network namespaces not permitted here: {reason}")
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
    except OSError as exc:
        pytest.skip(f"raw sockets not permitted here: {exc.strerror}")
    remove_leftovers()


@pytest.fixture
def lab(netns_ok: None) -> Iterator[Lab]:
    """Namespaces and links of this test only, removed afterwards even when the test fails."""
    with Lab() as the_lab:
        yield the_lab
