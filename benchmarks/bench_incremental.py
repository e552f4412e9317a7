"""Incremental import: a nightly file of 10 new booking rows against a big store (the
issue: 10 rows against a 1M-guest store in under 1 s), through the whole pipeline (ingest,
map, resolve, bookings, aggregates, outbox), beside the same 10 rows against a store of
1,000 guests as this run's baseline.

The big store is filled through the store's own set-based writes (guests, their links with
features, blocking keys and one booking each, as the pipeline leaves them), not through
the pipeline: what is measured is one more small import once the store is big. The day's
refresh is marked done first (as the first run of the day would have), so the run pays
for its own rows only. Of the 10 rows, 5 are new bookings of existing guests (found by
their phone and name) and 5 are new guests. Wall and CPU seconds, medians of 3 imports.
Usage: bench_incremental.py [GUESTS]   (default 100000; the issue's figure: 1000000)
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_csv_import import HEADER, guest, open_hub

from guestsync.actions.import_csv import import_files
from guestsync.identity.prepare import prepare
from guestsync.models import Entity, Guest, Reservation, SourceRecord
from guestsync.process.outbox import refresh_all
from guestsync.store.keyhash import key_hash

NOW = datetime(2026, 12, 1, 19, tzinfo=UTC)
CHUNK = 20_000


def fill(hub: Any, guests: int) -> None:
    store, fields = hub.store, tuple(hub.config.identity.fields)
    for start in range(0, guests, CHUNK):
        gs, links, keys, bookings = [], [], set(), []
        for g in range(start, min(guests, start + CHUNK)):
            name, d, user = guest(g)
            person = Guest(full_name=name, phone=f"+886{d}", email=f"{user}@example.com")
            ref = ("site", "bookings", f"F{g}")
            rec = SourceRecord(
                source=ref[0],
                stream=ref[1],
                external_id=ref[2],
                entity=Entity.reservation,
                guest=person,
            )
            p = prepare(rec, fields)
            gid = store.new_guest_id()
            gs.append(person.model_copy(update={"id": gid}))
            links.append((ref, gid, p.record_json, p.features_json, NOW))
            keys.update((key_hash(*k), gid) for k in p.keys)
            r = Reservation(venue="信義店", start_at=NOW, party_size=2)
            bookings.append((ref[0], ref[2], gid, r, None))
        with store.atomic():
            store.save_guests(gs)
            store.save_links(links)
            store.add_key_hashes(keys)
            store.upsert_reservations(bookings)
        print(f"  filled {min(guests, start + CHUNK):,} guests", file=sys.stderr)
    with store.atomic():  # today's refresh done, as the day's first run leaves it
        refresh_all(store, hub.targets, hub.activity, set())


def rows_file(path: Path, guests: int, run: int) -> None:
    rng = random.Random(run)
    lines = [",".join(HEADER)]
    known = rng.sample(range(guests), 5)
    for i, g in enumerate([*known, *range(guests + 10 * run, guests + 10 * run + 5)]):
        name, d, user = guest(g)
        lines.append(
            f"N{run}-{i},{name},{user}@example.com,0{d[:3]}-{d[3:6]}-{d[6:]},2026-12-24,"
            f"19:00,2,Confirmed,信義店,"
        )
    path.write_text("\n".join(lines) + "\n", "utf-8")


def measure(guests: int) -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        hub = open_hub(Path(tmp))
        t = time.perf_counter()
        fill(hub, guests)
        print(f"  ({guests:,} guests filled in {time.perf_counter() - t:.0f}s)", file=sys.stderr)
        walls, cpus = [], []
        for run in range(3):
            csv_path = Path(tmp) / f"new{run}.csv"
            rows_file(csv_path, guests, run)
            before = hub.store.count_guests()
            w, c = time.perf_counter(), time.process_time()
            report = import_files(hub, "site", [str(csv_path)])
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
            assert report.process is not None and report.process.processed == 10, report
            created = hub.store.count_guests() - before
        hub.close()
    return statistics.median(walls), statistics.median(cpus), created


def main() -> None:
    big = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    for size in (1000, big):
        wall, cpu, created = measure(size)
        print(
            f"  10 rows against {size:>9,} guests: wall {wall:6.3f}s  CPU {cpu:6.3f}s"
            f"  ({created} new guests, 5 expected)"
        )
        if size == 1000:
            base = wall, cpu
    print(
        f"at {big:,} guests: {wall:.3f}s wall (target < 1 s), {wall / base[0]:.1f}x the time"
        f" at 1,000 guests (CPU {cpu / base[1]:.1f}x)"
    )


if __name__ == "__main__":
    main()
