"""`export-csv` rows/s vs the floor (read the stored JSON, write it to CSV unparsed).

Fills a store with N golden guests (CJK names, phones, some allergies), then times
`export_csv` (parse each guest, map columns, write with a BOM) against a bare loop that
reads the same rows with sqlite3 and writes them as-is with csv.writer. Prints medians over
REPEAT runs, the ratio, and the export's peak traced memory (flat in N: rows stream).
Usage: bench_export.py [N] [REPEAT]
"""

from __future__ import annotations

import csv
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from guestsync.actions.export import export_csv
from guestsync.models import Guest
from guestsync.store import Store

SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周"


def fill(path: Path, n: int) -> None:
    store = Store.open(path)
    with store.atomic():
        for i in range(n):
            store.save_guest(
                Guest(
                    id=f"g{i:08d}",
                    full_name=f"{SURNAMES[i % 20]}小明{i}",
                    phone=f"+8869{i:08d}",
                    email=f"guest{i}@example.com" if i % 3 else None,
                    allergies=["花生", "蝦"] if i % 7 == 0 else [],
                )
            )
    store.close()


def run_export(db: Path, out: Path) -> float:
    store = Store.open(db)
    t0 = time.perf_counter()
    stats = export_csv(store, out, bom=True)
    elapsed = time.perf_counter() - t0
    store.close()
    assert stats.rows > 0
    return elapsed


def run_floor(db: Path, out: Path) -> float:
    t0 = time.perf_counter()
    conn = sqlite3.connect(db)
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        for row in conn.execute("SELECT id, data FROM guests ORDER BY created_at, id"):
            w.writerow(row)
    conn.close()
    return time.perf_counter() - t0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "hub.db"
        fill(db, n)
        exp, floor = [], []
        for i in range(repeat):
            exp.append(run_export(db, Path(tmp) / f"e{i}.csv"))
            floor.append(run_floor(db, Path(tmp) / f"f{i}.csv"))
        tracemalloc.start()
        run_export(db, Path(tmp) / "mem.csv")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    e, f = statistics.median(exp), statistics.median(floor)
    print(f"guests: {n}, runs: {repeat}")
    print(f"export-csv (parse+map+write, BOM): median {e:.2f}s  {n / e:,.0f} rows/s")
    print(f"floor (sqlite3 read + csv write):  median {f:.2f}s  {n / f:,.0f} rows/s")
    print(f"ratio export/floor rows/s: {f / e:.3f}")
    print(f"export peak traced memory: {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
