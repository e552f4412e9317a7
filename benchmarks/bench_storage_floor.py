"""SQLite's own cost per record as the store grows: the floor under bench_identity's ratio.

bench_identity.py compares the CPU cost of resolving a record into a store of a million
records with the cost in a store of ten thousand (the issue asks for <= 1.3). Part of that
cost is SQLite's: resolving a record looks up its blocking keys, reads a candidate's links,
inserts a link and some keys and rewrites the guest's row, and those land on random pages
of tables keyed by hashes and guest ids. A store of 10,000 records (about 14 MB) stays in
the CPU's caches; one of 1,000,000 (about 1.2 GB) does not.

This benchmark does that storage work alone, with no resolving around it: tables of the
same shapes as guestsync's (guest_keys, guest_links, guests, match_log; WAL,
synchronous=NORMAL, a 32 MB page cache, 500 records per transaction), filled in bulk,
then the last records up to each size added with the statements the resolver runs for a
record, in its order (two records in three join an existing guest, one in three is a new
guest); three rounds of a tenth of the size each, at most RECORDS. It is leaner than the
resolver (four keys stored per new guest where the resolver stores about a dozen, one
candidate at most), so it gives a floor. It prints the CPU us per record at each size
and their ratio: what the storage part of bench_identity's ratio would be if the rest of
the work cost the same at every size, on the machine it runs on.

Usage: bench_storage_floor.py [SIZE ...]   (default: 10000 1000000; the sizes' rounds
alternate, REPEAT=3 of them, and the medians are compared).
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

BATCH = 500
RECORDS = 10_000  # measured per round at most (a tenth of the size at most)
KEYS_PER_RECORD = 4  # stored: a million-record store holds about 4.5 keys per record
PROBES = 9  # looked up per record (resolver: about 8.6)
SCHEMA = """
CREATE TABLE guests (id TEXT PRIMARY KEY, data TEXT, display_name TEXT, email TEXT,
    phone TEXT, created_at TEXT, updated_at TEXT, merged_into TEXT);
CREATE TABLE guest_links (source TEXT NOT NULL, stream TEXT NOT NULL,
    external_id TEXT NOT NULL, guest_id TEXT NOT NULL REFERENCES guests(id), record TEXT,
    seen_at TEXT, features TEXT, pinned INTEGER NOT NULL DEFAULT 0, removed_at TEXT,
    PRIMARY KEY (guest_id, source, stream, external_id)) WITHOUT ROWID;
CREATE UNIQUE INDEX guest_links_ref ON guest_links (source, stream, external_id);
CREATE TABLE guest_keys (key INTEGER NOT NULL, guest_id TEXT NOT NULL,
    PRIMARY KEY (key, guest_id)) WITHOUT ROWID;
CREATE TABLE match_log (id INTEGER PRIMARY KEY, at TEXT, source TEXT, stream TEXT,
    external_id TEXT, guest_id TEXT, candidate TEXT, candidate_ref TEXT, score REAL,
    fields TEXT, outcome TEXT);
CREATE INDEX match_log_record ON match_log (source, stream, external_id);
"""
RECORD = '{"full_name":"%s","email":"guest%d@example.com.tw","phone":"+8869%08d"}'
FEATURES = '{"name":"%s","email":"guest%d@example.com.tw","phone":"+8869%08d"}'
GOLDEN = (
    '{"id":"%s","full_name":"%s","email":"guest%d@example.com.tw","phone":"+8869%08d",'
    '"sources":["booking","pos"],"consent":{"email":true,"at":"2026-01-01T00:00:00+00:00"}}'
)
TS = "2026-01-01T00:00:00.000000+00:00"


def _mix(n: int) -> int:
    """splitmix64: the blocking key hash of key n, spread like blake2b's (signed 64-bit)."""
    n = (n + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    n = ((n ^ (n >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    n = ((n ^ (n >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    n ^= n >> 31
    return n - (1 << 64) if n >= 1 << 63 else n


class Store:
    """A store of `size` records and its generator of further ones."""

    def __init__(self, path: Path, size: int, seed: int) -> None:
        self.conn = sqlite3.connect(str(path), isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.conn.execute("PRAGMA cache_size = -32768")  # as guestsync's Store.open
        self.conn.executescript(SCHEMA)
        self.rng = random.Random(seed)
        self.records = 0
        self.guests: list[str] = []  # ids, oldest first (UUIDv7 ids sort by creation)
        self.fill(size)

    def gid(self, n: int) -> str:
        return f"{n:012x}-7{self.rng.getrandbits(60):015x}"

    def fill(self, size: int) -> None:
        step = 50_000
        for b in range(0, size, step):
            self.conn.execute("BEGIN")
            for _ in range(b, min(b + step, size)):
                self.add(timed=False)
            self.conn.execute("COMMIT")

    def add(self, *, timed: bool) -> None:
        """One record, with the statements the resolver runs for it (timed: all of them;
        filling: only the writes)."""
        i = self.records
        self.records += 1
        c, rng = self.conn, self.rng
        ref = ("booking", "guests", f"r{i:09d}")
        join = bool(self.guests) and rng.random() < 2 / 3
        guest = self.guests[rng.randrange(len(self.guests))] if join else self.gid(i)
        owner = int(guest[:12], 16)  # the record that made the guest: its keys are shared
        keys = [_mix(owner * 16 + k) for k in range(KEYS_PER_RECORD)]
        if join:  # a mistyped email or a new phone: one key the guest did not have
            keys[-1] = _mix(i * 16 + 15)
        name = f"陳{owner % 9973}"
        if timed:
            c.execute(
                "SELECT guest_id, pinned FROM guest_links WHERE source = ? AND stream = ?"
                " AND external_id = ?",
                ref,
            ).fetchall()
            probes = keys + [_mix(i * 16 + k) for k in range(8, 8 + PROBES - len(keys))]
            sub = "SELECT * FROM (SELECT key, guest_id FROM guest_keys WHERE key = ? LIMIT 26)"
            found = c.execute(" UNION ALL ".join([sub] * len(probes)), probes).fetchall()
            candidates = sorted({g for _, g in found})
            if candidates:
                c.execute(
                    "SELECT guest_id, source, stream, external_id, features FROM guest_links"
                    f" WHERE guest_id IN ({','.join('?' * len(candidates))})",
                    candidates,
                ).fetchall()
            c.execute("SELECT merged_into FROM guests WHERE id = ?", (guest,)).fetchall()
            c.execute(
                "INSERT INTO match_log (at, source, stream, external_id, guest_id, candidate,"
                " candidate_ref, score, fields, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (TS, *ref, guest, guest, "booking:guests:r0", 12.5, '{"email":4.1}', "merge"),
            )
        if not join:
            c.execute(
                "INSERT INTO guests (id, data, display_name, email, phone, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (guest, GOLDEN % (guest, name, owner, owner), name, f"g{owner}", "+886", TS, TS),
            )
            self.guests.append(guest)
        c.execute(
            "INSERT INTO guest_links (source, stream, external_id, guest_id, record, seen_at,"
            " features) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (*ref, guest, RECORD % (name, owner, owner), TS, FEATURES % (name, owner, owner)),
        )
        c.executemany(
            "INSERT OR IGNORE INTO guest_keys (key, guest_id) VALUES (?, ?)",
            [(k, guest) for k in keys],
        )
        if timed:  # the guest settles: its links read, its golden row rewritten
            c.execute(
                "SELECT source, stream, external_id, seen_at, record, features, pinned"
                " FROM guest_links WHERE guest_id = ?",
                (guest,),
            ).fetchall()
            c.execute(
                "INSERT INTO guests (id, data, display_name, email, phone, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                " data = excluded.data, updated_at = excluded.updated_at",
                (guest, GOLDEN % (guest, name, i, i), name, f"g{owner}", "+886", TS, TS),
            )

    def measure(self, n: int) -> float:
        """CPU us per record of `n` more records, BATCH per transaction."""
        cpu = 0.0
        for _ in range(0, n, BATCH):
            c0 = time.process_time()
            self.conn.execute("BEGIN IMMEDIATE")
            for _ in range(BATCH):
                self.add(timed=True)
            self.conn.execute("COMMIT")
            cpu += time.process_time() - c0
        return 1e6 * cpu / n


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [10_000, 1_000_000]
    repeat = int(os.environ.get("REPEAT", "3"))
    runs: dict[int, list[float]] = {s: [] for s in sizes}
    with tempfile.TemporaryDirectory() as tmp:
        stores = {}
        per = {size: min(RECORDS, max(BATCH, size // 10)) for size in sizes}
        for size in sizes:
            t0 = time.perf_counter()
            fill = max(0, size - repeat * per[size])
            stores[size] = Store(Path(tmp) / f"s{size}.db", fill, seed=size)
            mb = sum(f.stat().st_size for f in Path(tmp).glob(f"s{size}.db*")) / 2**20
            took = time.perf_counter() - t0
            print(f"{size:>9,} records: filled to {fill:,} in {took:.0f} s ({mb:,.0f} MB)")
        for r in range(repeat):  # alternately, so that the machine's drift meets every size
            for size in sizes:
                runs[size].append(stores[size].measure(per[size]))
            print(f"  round {r + 1}: " + ", ".join(f"{s:,}: {runs[s][-1]:.0f}" for s in sizes))
        for s in stores.values():
            s.conn.close()
    base = statistics.median(runs[sizes[0]])
    for size in sizes:
        med = statistics.median(runs[size])
        print(
            f"{size:>9,} records: storage alone {med:.0f} CPU us/rec (last {repeat * per[size]:,}"
            f" records, median of {repeat} rounds), "
            f"{med / base:.2f}x {sizes[0]:,}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
