"""The latest poll result per (target, module), shared between the poller and the scrape handler.

The poller publishes after each cycle and Prometheus scrapes whenever it likes, so a scrape must never
see half of a cycle: each key's families are swapped in one assignment under a lock, and readers copy
the references out under the same lock before merging.
"""

from __future__ import annotations

import threading

from ftthnoc.consumers import Poll
from ftthnoc.samples import MetricFamily, merge

__all__ = ["Snapshot"]


def _freeze(families: list[MetricFamily]) -> tuple[MetricFamily, ...]:
    """Copy the families (not the immutable samples) so a publisher that keeps appending is harmless."""
    return tuple(MetricFamily(f.name, f.documentation, f.type, f.unit, list(f.samples)) for f in families)


class Snapshot:
    """Thread-safe holder of the latest families per (target, module)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[tuple[str, str], tuple[MetricFamily, ...]] = {}

    def publish(self, target: str, module: str, families: list[MetricFamily]) -> None:
        """Replace what (target, module) reported last time; readers see either the old or the new set."""
        frozen = _freeze(families)  # copy outside the lock: scrapes are not held up by big publishes
        with self._lock:
            self._by_key[(target, module)] = frozen

    def observe_poll(self, poll: Poll) -> None:
        """A ``PollConsumer``: the poll replaces what its (target, module) reported last time."""
        self.publish(poll.target, poll.module, list(poll.families))

    def forget(self, target: str, module: str | None = None) -> None:
        """Drop a target (all its modules, or one) that left the configuration, so its series go stale."""
        with self._lock:
            for key in [k for k in self._by_key if k[0] == target and (module is None or k[1] == module)]:
                del self._by_key[key]

    def keys(self) -> list[tuple[str, str]]:
        """The (target, module) pairs currently held, in first-publish order."""
        with self._lock:
            return list(self._by_key)

    def groups(self) -> list[tuple[tuple[str, str], tuple[MetricFamily, ...]]]:
        """Each (target, module) with what it holds, in first-publish order. A group is replaced, never
        changed, by a publish: the exposition cache tells a new poll from an old one by identity."""
        with self._lock:
            return list(self._by_key.items())

    def families(self) -> list[MetricFamily]:
        """All families merged by name; fresh objects the caller may modify."""
        with self._lock:
            held = list(self._by_key.values())
        return merge(f for group in held for f in group)

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_key)
