"""The run's module order (``tests/ordering.py``): longest first, each module's tests together and in order."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests import ordering


class _Item:
    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __repr__(self) -> str:
        return f"{self.module}::{self.name}"


def _sorted(items: list[_Item], guess: dict[str, float], seconds: dict[str, float]) -> list[str]:
    module_of: dict[Any, str] = {it: it.module for it in items}
    ordering.sort_longest_first(items, module_of, guess, seconds)  # type: ignore[arg-type]
    return [repr(it) for it in items]


def test_the_longest_module_runs_first_and_each_modules_tests_keep_their_order() -> None:
    items = [_Item("a.py", "1"), _Item("b.py", "1"), _Item("a.py", "2"), _Item("c.py", "1"), _Item("b.py", "2")]
    assert _sorted(items, {}, {"a.py": 2.0, "b.py": 30.0, "c.py": 9.0}) == [
        "b.py::1", "b.py::2", "c.py::1", "a.py::1", "a.py::2"]  # fmt: skip


def test_a_module_never_timed_is_placed_by_its_guess_and_ties_keep_the_collection_order() -> None:
    items = [_Item("quick.py", "1"), _Item("new_process.py", "1"), _Item("db.py", "1"), _Item("other.py", "1")]
    guess = {"new_process.py": ordering.GUESS_PROCESS, "db.py": ordering.GUESS_DATABASE}
    assert _sorted(items, guess, {"quick.py": 1.0}) == [
        "new_process.py::1", "db.py::1", "quick.py::1", "other.py::1"]  # fmt: skip


def test_a_run_records_its_modules_seconds_and_the_next_run_starts_with_the_slowest(tmp_path: Path) -> None:
    """A real pytest run of a small tree: the cache gets each module's time; the next collection puts the
    slow module first although it sorts last by name."""
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "__init__.py").write_text("")
    (tests / "conftest.py").write_text(textwrap.dedent("""
        import pytest
        from tests_ordering_under_test import ModuleTimer, known_seconds, sort_longest_first

        def pytest_configure(config):
            config.pluginmanager.register(ModuleTimer(config, False), "timer")

        def pytest_collection_modifyitems(config, items):
            module_of = {it: it.nodeid.split("::")[0] for it in items}
            sort_longest_first(items, module_of, {}, known_seconds(config))
        """))
    (tests / "test_a.py").write_text("def test_quick():\n    pass\n")
    (tests / "test_z.py").write_text("import os, time\n\ndef test_slow():\n    time.sleep(0.3)\n"
                                     "    assert not os.environ.get('FAIL')\n")
    shim = tmp_path / "tests_ordering_under_test.py"
    shim.write_text(Path(ordering.__file__).read_text(encoding="utf-8").replace(
        'Path(__file__).with_name("module_seconds.json")', 'Path(__file__).with_name("absent.json")'))

    def run(*args: str, fail: bool = False) -> str:
        env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin", **({"FAIL": "1"} if fail else {})}
        done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:xdist", *args],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == (1 if fail else 0), done.stdout + done.stderr
        return done.stdout

    assert run("--co", "-q").splitlines()[:2] == ["tests/test_a.py::test_quick", "tests/test_z.py::test_slow"]
    cache = tmp_path / ".pytest_cache" / "v" / "ftthnoc" / "module_seconds"
    run("-q", "-k", "quick")  # a part of the run times nothing
    run("-q", "tests/test_a.py")
    run("-q", fail=True)  # nor a run that failed
    assert not cache.exists()
    run("-q")
    cached = json.loads(cache.read_text())
    assert set(cached) == {"tests/test_a.py", "tests/test_z.py"}
    assert cached["tests/test_z.py"] >= 0.3 > cached["tests/test_a.py"]
    assert run("--co", "-q").splitlines()[:2] == ["tests/test_z.py::test_slow", "tests/test_a.py::test_quick"]


def test_the_committed_figures_name_only_modules_that_exist() -> None:
    """A renamed module would keep a stale figure and be placed by a guess: the file is refreshed then."""
    root = Path(__file__).resolve().parent.parent
    figures = json.loads(ordering.COMMITTED.read_text(encoding="utf-8"))
    assert figures and all(isinstance(v, float | int) and v >= 0 for v in figures.values())
    missing = sorted(m for m in figures if not (root / m).is_file())
    if missing:
        pytest.fail(f"tests/module_seconds.json names modules that are gone: {missing}; refresh it with "
                    "./run test --write-module-seconds")
