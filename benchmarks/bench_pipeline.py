"""CSV rows/s through ingest + process (map, resolve, outbox) vs a bare sqlite-utils insert.

Generates a booking CSV with N rows (about 3 rows per guest, phone and email spellings
varied), runs the guestsync pipeline on it into a fresh store, and, in the same process,
inserts the same file into a bare table with sqlite-utils (the floor any importer pays).
Prints medians over REPEAT runs and the ratio. Usage: bench_pipeline.py [N] [REPEAT]
"""

from __future__ import annotations

import csv
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlite_utils

from guestsync.config import load_config
from guestsync.sync_engine import Hub

ROOT = Path(__file__).resolve().parent.parent
HEADER = [
    "Booking ID",
    "Name",
    "Email",
    "Phone",
    "Date",
    "Time",
    "Party Size",
    "Status",
    "Venue",
    "Notes",
]
SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周"
GIVEN = ["小明", "美玲", "志強", "雅婷", "建國", "淑芬", "家豪", "怡君", "俊傑", "佩珊"]


def make_csv(path: Path, n: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    guests = max(1, n // 3)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(n):
            g = rng.randrange(guests)
            name = SURNAMES[g % len(SURNAMES)] + GIVEN[(g // len(SURNAMES)) % len(GIVEN)]
            digits = f"9{g:08d}"
            phone = rng.choice(
                [
                    f"0{digits[:3]}-{digits[3:6]}-{digits[6:]}",
                    f"+886 {digits[:3]} {digits[3:6]} {digits[6:]}",
                    f"0{digits}",
                ]
            )
            email = rng.choice([f"guest{g}@example.com", f"Guest{g}@Example.com", ""])
            w.writerow(
                [
                    f"B{i}",
                    name,
                    email,
                    phone,
                    f"2026-12-{1 + i % 28:02d}",
                    f"{17 + i % 5}:{(i % 2) * 30:02d}",
                    1 + i % 8,
                    "Confirmed",
                    "Xinyi",
                    "",
                ]
            )


def run_pipeline(csv_path: Path, workdir: Path) -> float:
    cfg = workdir / "guestsync.yaml"
    cfg.write_text(
        f"store: {{path: {workdir / 'hub.db'}}}\n"
        "sources:\n  site:\n    type: csv\n"
        f"    mapping: {ROOT / 'config' / 'mappings' / 'booking_en.yaml'}\n"
        "targets:\n  hubspot: {type: hubspot, token: x, base_url: 'http://127.0.0.1:9'}\n",
        "utf-8",
    )
    hub = Hub(load_config(cfg))
    t0 = time.perf_counter()
    hub.import_csv("site", [csv_path])
    stats = hub.process()
    elapsed = time.perf_counter() - t0
    assert stats.processed > 0
    hub.close()
    return elapsed


def run_bare_insert(csv_path: Path, workdir: Path) -> float:
    t0 = time.perf_counter()
    db = sqlite_utils.Database(workdir / "bare.db")
    with csv_path.open(newline="", encoding="utf-8") as fh:
        db["rows"].insert_all(csv.DictReader(fh), batch_size=1000)
    db.close()
    return time.perf_counter() - t0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    pipe, bare = [], []
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "bookings.csv"
        make_csv(csv_path, n)
        for i in range(repeat):
            for fn, acc in ((run_pipeline, pipe), (run_bare_insert, bare)):
                d = Path(tmp) / f"{fn.__name__}{i}"
                d.mkdir()
                acc.append(fn(csv_path, d))
    p, b = statistics.median(pipe), statistics.median(bare)
    print(f"rows: {n}, runs: {repeat}")
    print(f"pipeline (ingest+map+resolve+outbox): median {p:.2f}s  {n / p:,.0f} rows/s")
    print(f"baseline (sqlite-utils insert):       median {b:.2f}s  {n / b:,.0f} rows/s")
    print(f"ratio pipeline/baseline rows/s: {b / p:.3f}")


if __name__ == "__main__":
    main()
