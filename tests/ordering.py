"""Longest modules first: the order in which the test modules are run, and handed to xdist workers.

Over workers the run ends when the worker holding the last long module ends it: a three-minute module
handed out last keeps one worker busy while the others idle. ``--dist loadscope`` hands out whole modules
in collection order (with ``--no-loadscope-reorder``; its default reorder counts tests, and 446 quick
tests of the access matrix went out before three two-minute shards). So the modules are sorted by how
long each took: the longest start at once, the short ones fill the gaps at the end (the greedy
longest-processing-time rule, as pytest-split's duration files do).

How long a module takes comes from the last whole run that passed on this checkout (pytest's cache) and,
on a fresh checkout such as CI's, from ``tests/module_seconds.json``, measured by a whole run over the
default workers and refreshed with ``--write-module-seconds``. A module in neither is placed by what it
starts.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

CACHE_KEY = "ftthnoc/module_seconds"
COMMITTED = Path(__file__).with_name("module_seconds.json")
#: seconds assumed for a module never timed: one that starts processes, one on databases, any other
GUESS_PROCESS, GUESS_DATABASE, GUESS_OTHER = 20.0, 5.0, 1.0


def known_seconds(config: pytest.Config) -> dict[str, float]:
    """Per module, the seconds it took: the committed figures, overlaid by this checkout's last run."""
    seconds: dict[str, float] = {}
    if COMMITTED.exists():
        seconds.update(json.loads(COMMITTED.read_text(encoding="utf-8")))
    cache = getattr(config, "cache", None)  # absent with -p no:cacheprovider
    if cache is not None:
        seconds.update(cache.get(CACHE_KEY, {}))
    return seconds


def sort_longest_first(items: list[pytest.Item], module_of: dict[pytest.Item, str],
                       guess: dict[str, float], seconds: dict[str, float]) -> None:
    """Sort in place by module, longest first; each module's tests stay together and in their order."""
    first_seen: dict[str, int] = {}
    for i, item in enumerate(items):
        first_seen.setdefault(module_of[item], i)
    items.sort(key=lambda it: (-seconds.get(module_of[it], guess.get(module_of[it], GUESS_OTHER)),
                               first_seen[module_of[it]]))


class ModuleTimer:
    """Adds up each module's setup, call and teardown times as the reports arrive (in the controller when
    over xdist: it receives every worker's reports) and keeps them in the cache when the run ends."""

    def __init__(self, config: pytest.Config, write_committed: bool) -> None:
        self.config = config
        self.write_committed = write_committed
        self.seconds: dict[str, float] = defaultdict(float)

    def whole_run(self, exitstatus: int | pytest.ExitCode) -> bool:
        """Only a whole run that passed times its modules: a module cut short by a failure, ``-k`` or a
        path given on the command line would keep a figure far below what it takes."""
        option = self.config.option
        return (exitstatus == pytest.ExitCode.OK and not option.keyword and not option.markexpr
                and self.config.args_source != pytest.Config.ArgsSource.ARGS)

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[report.nodeid.split("::", 1)[0]] += report.duration

    @pytest.hookimpl
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.seconds or hasattr(self.config, "workerinput") or not self.whole_run(exitstatus):
            return
        measured = {m: round(s, 1) for m, s in self.seconds.items()}
        cache = getattr(self.config, "cache", None)
        if cache is not None:
            cache.set(CACHE_KEY, {**cache.get(CACHE_KEY, {}), **measured})
        if self.write_committed:
            known = json.loads(COMMITTED.read_text(encoding="utf-8")) if COMMITTED.exists() else {}
            known.update(measured)
            COMMITTED.write_text(json.dumps(dict(sorted(known.items())), indent=1) + "\n", encoding="utf-8")
