"""Identity resolution: quality and cost per record on seeded synthetic guests.

For each size (source records), generates about size/3 people with the corruptions of
guestsync.synthetic (trad/simplified, romanized and swapped names, typos, shared family
phones, phone formats, missing fields), resolves every record into a fresh SQLite store
in batches of 500 per transaction (as the process stage does), and prints pairwise
precision/recall/F1 against the ground truth, records/s, peak memory (ru_maxrss of a
child process per size) and the per-record cost relative to the smallest size, measured
in the same run (the issue asks for <= 1.3 and F1 >= 0.98).

Usage: bench_identity.py [SIZE ...]   (default: 10000 30000)
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from guestsync.resolution import Resolver
from guestsync.store import Store
from guestsync.synthetic import pairwise_quality, rows, to_record

BATCH = 500
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def one(size: int) -> dict[str, float]:
    data = list(rows(max(1, int(size / 2.6)), 3.0, seed=42))[:size]
    records = [to_record(r) for r, _ in data]
    truth = {r["id"]: t for r, t in data}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.db")
        if os.environ.get("BENCH_CACHE"):
            store.conn.execute(f"PRAGMA cache_size = -{os.environ['BENCH_CACHE']}")
        tail_from = len(records) - max(1, len(records) // 10)
        start, cpu_start = time.perf_counter(), time.process_time()
        tail_start, tail_cpu = start, cpu_start
        stats = {"comparisons": 0, "skipped_keys": 0, "merges": 0, "reviews": 0}
        for b in range(0, len(records), BATCH):
            if b <= tail_from < b + BATCH:
                tail_start, tail_cpu = time.perf_counter(), time.process_time()
            resolver = Resolver(store)
            with store.atomic():
                for i, rec in enumerate(records[b : b + BATCH], start=b):
                    resolver.resolve(rec, T0 + timedelta(seconds=i))
                for gid in resolver.live(set()):
                    resolver.refresh(gid)
            for k in stats:
                stats[k] += getattr(resolver.stats, k)
        end, cpu_end = time.perf_counter(), time.process_time()
        quality = pairwise_quality(store.link_map(), truth)
        guests = store.count_guests()
        store.close()
    n = len(records)
    tail_n = n - (tail_from // BATCH) * BATCH
    return {
        "records": n,
        "guests": guests,
        "people": len(set(truth.values())),
        "seconds": end - start,
        "records_per_s": n / (end - start),
        "us_per_record": 1e6 * (end - start) / n,
        "tail_us_per_record": 1e6 * (end - tail_start) / tail_n,
        "cpu_us_per_record": 1e6 * (cpu_end - cpu_start) / n,
        "tail_cpu_us_per_record": 1e6 * (cpu_end - tail_cpu) / tail_n,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **quality,
        **{k: float(v) for k, v in stats.items()},
    }


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(one(int(argv[1]))))
        return
    sizes = [int(a) for a in argv] or [10_000, 30_000]
    results = []
    for size in sizes:
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(size)],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(r)
        print(
            f"{r['records']:>9,} records -> {r['guests']:,} guests ({r['people']:,} people): "
            f"P {r['precision']:.4f} R {r['recall']:.4f} F1 {r['f1']:.4f} | "
            f"{r['records_per_s']:,.0f} rec/s, {r['us_per_record']:.0f} us/rec "
            f"(last 10%: {r['tail_us_per_record']:.0f}), CPU {r['cpu_us_per_record']:.0f} us/rec "
            f"(last 10%: {r['tail_cpu_us_per_record']:.0f}) | peak RSS {r['peak_rss_mb']:.0f} MB | "
            f"{r['comparisons'] / r['records']:.1f} comparisons/rec, "
            f"{r['skipped_keys']:.0f} over-frequent keys skipped, {r['merges']:.0f} merges, "
            f"{r['reviews']:.0f} reviews",
            flush=True,
        )
    base = results[0]
    for r in results[1:]:
        print(
            f"per-record cost {r['records']:,} / {base['records']:,}: "
            f"{r['us_per_record'] / base['us_per_record']:.2f} overall, "
            f"{r['tail_us_per_record'] / base['tail_us_per_record']:.2f} last 10%; CPU time "
            f"{r['cpu_us_per_record'] / base['cpu_us_per_record']:.2f} overall, "
            f"{r['tail_cpu_us_per_record'] / base['tail_cpu_us_per_record']:.2f} last 10% "
            "(target <= 1.3; CPU time is the fair one on a shared machine)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
