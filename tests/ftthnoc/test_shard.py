"""Shards: N pollers split the targets as N Prometheus servers' hashmod relabelling splits them."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from ftthnoc.errors import ConfigError
from ftthnoc.shard import Shard, hashmod
from tests.ports import free_port
from tests.waiting import wait_until

PROMETHEUS = shutil.which("prometheus")
#: Target addresses as a prefecture's configuration writes them: host names, addresses with and without a
#: port. Prometheus never contacts them: the relabelling below sends every scrape to a closed loopback port.
ADDRESSES = [f"10.{20 + town}.{board}.11" for town in range(10) for board in range(4)] + [
    f"olt{i}.town{i % 10}.example:161" for i in range(20)] + [f"127.0.0.1:{10000 + i}" for i in range(20)]


@pytest.mark.parametrize("text", ["3", "3/3", "-1/3", "0/0", "a/b", "1/2/3", ""])
def test_a_bad_shard_is_refused_with_what_to_write(text: str) -> None:
    with pytest.raises(ConfigError, match="bad shard"):
        Shard.parse(text)


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_the_shards_of_n_partition_the_targets(count: int) -> None:
    shards = [Shard.parse(f"{i}/{count}") for i in range(count)]
    picked = [s.select(ADDRESSES, str) for s in shards]
    assert sorted(a for p in picked for a in p) == sorted(ADDRESSES)  # each address in exactly one shard
    if count > 1:
        assert all(picked), picked  # 80 addresses leave no shard of at most 7 empty


@pytest.mark.process
@pytest.mark.skipif(PROMETHEUS is None, reason="prometheus not installed (Debian package prometheus)")
def test_a_target_lands_in_the_shard_prometheus_hashmod_puts_it_in(tmp_path: Path) -> None:
    """The prefecture's Prometheus servers and pollers must agree on every target, for every N tried."""
    closed = free_port()  # nothing listens there: the scrapes fail at once, on loopback
    moduli = (2, 3, 7, 10)
    jobs = [{
        "job_name": f"shards_of_{n}",
        "scrape_interval": "1h",
        "metrics_path": "/snmp",
        "static_configs": [{"targets": ADDRESSES}],
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"source_labels": ["__param_target"], "modulus": n, "target_label": "shard", "action": "hashmod"},
            {"target_label": "__address__", "replacement": f"127.0.0.1:{closed}"},
        ],
    } for n in moduli]
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump({"global": {"scrape_interval": "1h"}, "scrape_configs": jobs}))
    port = free_port()
    with (tmp_path / "prometheus.log").open("w") as log:
        proc = subprocess.Popen([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
                                 f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        def targets() -> list[dict[str, Any]] | None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/targets?state=active", timeout=5) as r:
                    active: list[dict[str, Any]] = json.loads(r.read())["data"]["activeTargets"]
            except OSError:
                return None
            return active if len(active) == len(moduli) * len(ADDRESSES) else None

        active = wait_until(targets, 30, "Prometheus listing every target of every job",
                            detail=lambda: (tmp_path / "prometheus.log").read_text()[-2000:])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    theirs = {(t["labels"]["job"], t["labels"]["instance"]): int(t["labels"]["shard"]) for t in active}
    ours = {(f"shards_of_{n}", a): hashmod(a, n) for n in moduli for a in ADDRESSES}
    assert theirs == ours
    for n in moduli:  # and every shard of the poller holds what that Prometheus server keeps
        for i in range(n):
            kept = sorted(a for (job, a), s in theirs.items() if job == f"shards_of_{n}" and s == i)
            assert sorted(Shard(i, n).select(ADDRESSES, str)) == kept
