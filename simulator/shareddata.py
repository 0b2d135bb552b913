"""One copy of each agent's data, indexed once, for every ``TownAgents`` that serves the same data.

snmpsim builds an index (a ``dbm`` file) of every data file before it answers, at about 35 µs a record
in Python's ``dbm.dumb``: half the CPU of starting the 7,000-ONU town (13 s of the agents' CPU; 6 s with
the index already built, measured here). A test run starts the same towns again and again, one module
after another and in each xdist worker, so a store shared by the run keeps each distinct data directory
once, under a name that is the hash of its contents, and the index snmpsim built of it.

Why content addresses: snmpsim names an index after its data file's path and trusts it while the file
is older than the index. A copy that never changes under a path that names its contents makes both true
for every user of it; its files get an old mtime, so that an index built in the same second still
counts as newer. Nothing writes there after that: a fault (``simulator.faults``) rewrites an agent's own
private copy (``TownAgents.writable_data_dir``), never the store.

Why indexes are published, not shared while built: snmpsim builds in place, so two processes building
the same index at once would read each other's half-written file. A process whose index is not in the
store yet builds it in its own private cache; once its agents answer, the index files are copied into
the store (each through a temporary name) and a marker says they are complete. A process uses the
store's cache only when every one of its agents' indexes has its marker.

``FTTHNOC_SIM_SHARED_DATA`` names the store (the test run sets it to a directory of its own); unset, every
``TownAgents`` keeps its data to itself as before.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

SHARED_DATA_ENV = "FTTHNOC_SIM_SHARED_DATA"
#: the mtime of every stored data file (2000-01-01): older than any index built of it
STORED_MTIME = 946_684_800


def from_environment() -> SharedData | None:
    root = os.environ.get(SHARED_DATA_ENV, "").strip()
    return SharedData(Path(root)) if root else None


def _digest(directory: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(p for p in directory.iterdir() if p.is_file()):
        h.update(f.name.encode() + b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:32]


class SharedData:
    """The store under ``root``: ``data/<hash>/`` (a device's data files), ``cache/`` (their indexes)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.data = self.root / "data"
        self.cache = self.root / "cache"
        for d in (self.data, self.cache):
            d.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.root / ".lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def holds(self, data_dir: Path) -> bool:
        return data_dir.resolve().parent == self.data

    def place(self, directory: Path) -> Path:
        """The stored copy of ``directory`` (made now if the store has none)."""
        target = self.data / _digest(directory)
        if target.is_dir():
            return target
        with self._locked():
            if not target.is_dir():
                partial = self.data / f".{target.name}.{os.getpid()}"
                shutil.rmtree(partial, ignore_errors=True)
                shutil.copytree(directory, partial)
                for f in partial.iterdir():
                    os.utime(f, (STORED_MTIME, STORED_MTIME))
                os.rename(partial, target)
        return target

    def _prefix(self, data_dir: Path) -> str:
        # snmpsim's own naming: the data file's path with its separators replaced, in the cache directory
        return str(data_dir.resolve()).replace(os.sep, "_") + "_"

    def _marker(self, data_dir: Path) -> Path:
        return self.cache / f"{self._prefix(data_dir)}.complete"

    def indexed(self, data_dir: Path) -> bool:
        return self._marker(data_dir).exists()

    def publish(self, data_dir: Path, built_in: Path) -> None:
        """Copy the index snmpsim built of ``data_dir`` in the private cache ``built_in`` into the store."""
        if not self.holds(data_dir) or self.indexed(data_dir):
            return
        prefix = self._prefix(data_dir)
        built = [f for f in built_in.iterdir() if f.name.startswith(prefix) and f.is_file()]
        if not built:
            return
        with self._locked():
            if self.indexed(data_dir):
                return
            for f in built:
                partial = self.cache / f".{f.name}.{os.getpid()}"
                shutil.copy2(f, partial)
                os.replace(partial, self.cache / f.name)
            self._marker(data_dir).touch()
