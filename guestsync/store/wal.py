"""The write-ahead log: who checkpoints it, and when.

SQLite checkpoints the WAL from the connection whose commit crosses 1000 pages, inside
that commit's call: with synchronous=NORMAL that is two fsyncs. On the webhook writer's
connection that stalls every request queued behind it (measured: the p99 of a group
commit went from ~7 ms to ~20 ms). So `guestsync serve` leaves that connection's
checkpoints to a thread with a connection of its own (WAL: a checkpoint never blocks a
writer), and so does a large import (process/mapping_pool.py).

Such a writer still checkpoints once its WAL passes BACKSTOP_PAGES. A checkpoint beside
a writer copies the frames committed when it began; if the writer commits again before
it ends, as a large import always does, the WAL is never found fully copied when a
transaction starts, so it is never started over: it grew to 6.5 GB by 500k records of
bench_identity.py run as an import, and every page read searched a longer WAL index.
The writer's own checkpoint, between its transactions, copies what is left (the other
connection has copied most of it), and its next transaction starts the WAL over.

An in-process import keeps SQLite's 1000 pages. At 200k rows of bench_csv_import's file
its commits wrote 751,602 WAL frames (3000-row windows: guest_keys 37%, guest_links 32%,
reservations_guest 9%, pages all over those B-trees, most of them again each window); a
checkpoint every 8 commits would copy 300,085 pages instead. Tried (#20): 32768 pages
for the run, then one checkpoint: the commits' CPU fell (5.15 -> 4.46 s) but the run's
did not (91.4 vs 93.8 s; 100k rows, 16384 pages: the same). Not kept."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .base import StoreBase

BACKSTOP_PAGES = 16384  # 64 MB of 4 KB pages


class WalOps(StoreBase):
    def file_path(self) -> str | None:
        """The database file of this connection; None for an in-memory store."""
        if self.dialect != "sqlite":  # PostgreSQL: no file, no WAL of ours to manage
            return None
        for _, name, file in self.conn.execute("PRAGMA database_list").fetchall():
            if name == "main":
                return file or None
        return None

    def defer_checkpoints(self, backstop: int = BACKSTOP_PAGES) -> None:
        """Another connection checkpoints: this one's commits only once the WAL holds
        `backstop` pages (see above)."""
        self.autocheckpoint(backstop)

    def autocheckpoint(self, pages: int | None = None) -> int:
        """The WAL size (pages) past which a commit of this connection checkpoints; set
        it first when `pages` is given (0: never)."""
        if self.dialect != "sqlite":
            return 0
        if pages is not None:
            self.conn.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
        return int(self._one("PRAGMA wal_autocheckpoint"))

    def checkpoint(self) -> tuple[int, int]:
        """Copy what it can of the WAL into the database without waiting for readers or
        writers (PASSIVE); (frames in the WAL, frames copied)."""
        if self.dialect != "sqlite":
            return 0, 0
        _, in_log, copied = self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return in_log, copied

    @contextmanager
    def page_cache(self, mib: int) -> Iterator[None]:
        """SQLite's page cache at `mib` MiB meanwhile, then as it was. A transaction that
        dirties more pages than the cache holds writes some of them to the WAL before its
        COMMIT (a spill), and again if they change once more: a bulk import's window does
        (IMPORT_CACHE_MIB, process/mapping_pool.py)."""
        if self.dialect != "sqlite":
            yield
            return
        before = int(self._one("PRAGMA cache_size"))  # (negative: KiB; positive: pages)
        self.conn.execute(f"PRAGMA cache_size = {-int(mib) * 1024}")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA cache_size = {before}")


class WriteTurn:
    """A lock the writers of one store share (threads: a threading.Lock; processes: a
    multiprocessing Lock), held around each outermost transaction (`Store.write_turn`).
    SQLite's own wait for its write lock polls with sleeps of up to 100 ms; a writer
    waiting here is woken the moment the turn is free. `pause`: seconds the writer rests
    after its turn, so that a writer woken by the release takes the next turn (a lock is
    not fair: a busy writer would otherwise take it again at once). A wait longer than
    `wait` goes on without the turn (its holder died?): SQLite's own locking still keeps
    the writes correct. `lock` may be replaced (serve renews it with a new worker)."""

    def __init__(self, lock: Any, *, pause: float = 0.0, wait: float = 5.0) -> None:
        self.lock = lock
        self.pause = pause
        self.wait = wait
        self._held = threading.local()

    def __enter__(self) -> WriteTurn:
        lock = self.lock
        self._held.lock = lock if lock.acquire(timeout=self.wait) else None
        return self

    def __exit__(self, *exc: object) -> None:
        lock, self._held.lock = getattr(self._held, "lock", None), None
        if lock is not None:
            lock.release()
        if self.pause:
            time.sleep(self.pause)
