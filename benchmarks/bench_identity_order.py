"""Order independence of identity resolution: the same records resolved in two orders.

Generates the extended synthetic data (guestsync.testing.synthetic), resolves it as the
process stage does (batches of 500 per transaction) once in the generated order and once
per shuffle, and prints how many predicted pairs (two records in one guest) differ
between the orders, as a share of the pairs of the first order, and the CPU per record of
each order. 0 means identical clusterings. `--out FILE` writes the differing pairs (one
line each: the two external ids and the order they are together in) to look into.

Usage: bench_identity_order.py [SIZE] [--seed N] [--shuffles K] [--out FILE]
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

BATCH = 500
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def clusters(records: list[Any]) -> set[tuple[str, str]]:
    """The predicted pairs (sorted external ids) of resolving `records` in this order."""
    from guestsync.process.resolve import Resolver
    from guestsync.store import Store

    t0 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "o.db")
        for b in range(0, len(records), BATCH):
            resolver = Resolver(store)
            with store.atomic():
                for i, rec in enumerate(records[b : b + BATCH], start=b):
                    resolver.resolve(rec, T0 + timedelta(seconds=i))
                resolver.refresh_many(resolver.live(set()))
        links = store.link_map()
        store.close()
    cpu = time.process_time() - t0
    print(f"  {len(records):,} records: CPU {1e6 * cpu / len(records):.0f} us/record", flush=True)
    groups: dict[str, list[str]] = defaultdict(list)
    for ext, gid in links.items():
        groups[gid].append(ext)
    return {p for g in groups.values() for p in combinations(sorted(g), 2)}


def main(argv: list[str]) -> None:
    from guestsync.testing.synthetic import dataset, to_record

    size, seed, shuffles = 10_000, 1, 1
    out: Path | None = None
    args = iter(argv)
    for a in args:
        if a == "--seed":
            seed = int(next(args))
        elif a == "--shuffles":
            shuffles = int(next(args))
        elif a == "--out":
            out = Path(next(args))
        else:
            size = int(a)
    data = dataset(max(1, int(size / 2.6)), 3.0, seed=seed)
    records = [to_record(r) for r, _ in data.rows[:size]]
    base = clusters(records)
    for k in range(shuffles):
        order = records[:]
        random.Random(1000 + k).shuffle(order)
        other = clusters(order)
        diff = len(base ^ other)
        if out is not None:
            with out.open("a", encoding="utf-8") as f:
                for a, b in sorted(base - other):
                    f.write(f"{a} {b} generated-order\n")
                for a, b in sorted(other - base):
                    f.write(f"{a} {b} shuffle-{k}\n")
        print(
            f"{size:,} records, seed {seed}, shuffle {k}: {len(base):,} / {len(other):,} "
            f"pairs, {diff:,} differ ({diff / max(1, len(base)):.2%})",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
