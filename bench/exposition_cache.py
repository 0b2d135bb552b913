"""Benchmark: one ``/metrics`` scrape of a prefecture-sized snapshot, encoded in full (before) and cached (after).

In-process and without simulators, so it runs in a minute: ``--targets`` OLTs publish ``--families``
gauge families of ONU-labelled samples (``--samples`` in all: 710,000, what the 70,000-ONU
prefecture's ``/metrics`` holds). One scrape is timed as Prometheus makes it (OpenMetrics, gzip) three
ways: the full encoding of the whole registry plus gzip, as ``/metrics`` did on every scrape before
``exporters.prometheus.cache``; the first cached scrape (every target encoded once, as after ``serve``
starts); and a cached scrape after one target's poll changed (the steady state: one OLT encoded again,
the rest joined). CPU time of this process, median of ``--rounds``. The bodies are checked equal. A
benchmark, not a test: it exits 0 whatever the figures, non-zero when the bodies differ.

Run: ``python bench/exposition_cache.py`` (``--samples 100000`` for a town).
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import time
from collections.abc import Sequence

from bench.exposition import PROMETHEUS_ACCEPT
from exporters.prometheus import Snapshot, make_registry
from exporters.prometheus.collector import exposition
from ftthnoc.samples import MetricFamily


def olt_families(olt: int, per_family: int, families: int, generation: int) -> list[MetricFamily]:
    out = []
    for k in range(families):
        fam = MetricFamily(f"ftth_bench_onu_{k}", "A benchmark gauge per ONU.", "gauge")
        for i in range(per_family):
            fam.add({"olt": f"olt{olt}", "pon_port": f"0/{i // 1024}/{(i // 64) % 16}", "onu_id": str(i % 64),
                     "district": f"d{olt % 7}"}, -20.5 + (i * 7 + generation) % 97 / 8)
        out.append(fam)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--samples", type=int, default=710_000)
    ap.add_argument("--targets", type=int, default=50)
    ap.add_argument("--families", type=int, default=14)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    per_family = args.samples // (args.targets * args.families)
    snapshot = Snapshot()
    for olt in range(args.targets):
        snapshot.publish(f"olt{olt}", "gpon", olt_families(olt, per_family, args.families, 0))
    full_s, first_s, steady_s = [], [], []
    for r in range(args.rounds):
        registry = make_registry(snapshot)  # a fresh cache: the first scrape after start encodes everything
        t0 = time.process_time()
        gzip.compress(exposition(registry, PROMETHEUS_ACCEPT)[0], 6)
        t1 = time.process_time()
        registry.cache.body(PROMETHEUS_ACCEPT, True)
        t2 = time.process_time()
        olt = r % args.targets
        snapshot.publish(f"olt{olt}", "gpon", olt_families(olt, per_family, args.families, r + 1))
        t3 = time.process_time()
        cached = registry.cache.body(PROMETHEUS_ACCEPT, True)[0]
        t4 = time.process_time()
        full_s.append(t1 - t0)
        first_s.append(t2 - t1)
        steady_s.append(t4 - t3)
        fresh = exposition(registry, PROMETHEUS_ACCEPT)[0]
        if gzip.decompress(cached) != fresh:
            print("cached body differs from the full encoding", file=sys.stderr)
            return 1
    size = len(fresh)
    m = statistics.median
    print(f"exposition of {args.targets * args.families * per_family:,} samples ({size / 1e6:.0f} MB OpenMetrics, "
          f"{len(cached) / 1e6:.1f} MB gzip), CPU per scrape, median of {args.rounds}: full encoding + gzip "
          f"{m(full_s):.2f} s (before); first cached scrape {m(first_s):.2f} s; a scrape after one of "
          f"{args.targets} targets changed {m(steady_s):.3f} s (after): {m(full_s) / m(steady_s):.0f}× less")
    return 0


if __name__ == "__main__":
    sys.exit(main())
