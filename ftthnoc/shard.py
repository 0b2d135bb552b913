"""Which of N pollers polls a target: Prometheus' ``hashmod`` of the target's address.

A prefecture splits its OLTs over N ``ftthnoc serve --shard i/N`` pollers and, in the multi-target pattern,
over N Prometheus servers that relabel ``__param_target`` with ``action: hashmod`` and keep shard ``i``
(``grafana/prometheus/prometheus.prefecture.yml``). Both must put a target in the same shard, so this is the
same function Prometheus applies: MD5 of the value, its last 8 bytes read as a big-endian unsigned 64-bit
integer, modulo N (checked against a Prometheus server in ``tests/ftthnoc/test_shard.py``). Shard numbers
run from 0 to N-1, the values ``hashmod`` writes, so that ``--shard 2/3`` and ``regex: "2"`` say the same.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from ftthnoc.errors import ConfigError

T = TypeVar("T")

_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def hashmod(value: str, modulus: int) -> int:
    """Prometheus' ``hashmod`` relabel action on one (already joined) source-label value."""
    digest = hashlib.md5(value.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[8:], "big") % modulus


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count``: the targets whose address hashes to ``index``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        m = _SHARD.fullmatch(text)
        if m is None:
            raise ConfigError(f"bad shard {text!r}: write I/N, e.g. 0/3 (shards are numbered 0 to N-1, "
                              "as Prometheus' hashmod numbers them)")
        index, count = int(m.group(1)), int(m.group(2))
        if count < 1 or index >= count:
            raise ConfigError(f"bad shard {text!r}: with N={count} the shard must be 0 to {count - 1}"
                              if count >= 1 else f"bad shard {text!r}: N must be at least 1")
        return cls(index, count)

    def holds(self, address: str) -> bool:
        return hashmod(address, self.count) == self.index

    def select(self, items: Iterable[T], address: Callable[[T], str]) -> list[T]:
        return [item for item in items if self.holds(address(item))]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
