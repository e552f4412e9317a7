"""The intake file: webhooks as acknowledged, before the worker moves them into the store.

Under `guestsync serve` the intake processes commit each webhook's rows and its event id
to a SQLite file of their own beside the store (hub.db -> hub.intake.db), never to the
store itself: the worker's transactions there (a bulk window holds the store's write lock
for a second or more) never delay a webhook's commit. The event ids stay here, under a
primary key shared by every intake process, so a second copy of an event is refused
whichever process gets it. The worker moves the rows into the store's inbox in bulk
(`move_into`): one transaction in the store, then the moved rows are deleted here. A crash
between the two moves a row twice; the store's inbox key (source, stream, id, content
hash) keeps the second copy out, so nothing acknowledged is lost or processed twice.

The writers of this file (one group-commit thread per intake process, the worker's
mover) take turns through `FileTurn`, an flock on a file beside it: a waiting writer is
woken by the kernel the moment the turn is free (SQLite's own busy wait polls with sleeps
of up to 100 ms), and a writer that dies never keeps the turn (the kernel drops its lock).

Its WAL is checkpointed small and often, by the group-commit writers themselves: a commit
that finds CHECKPOINT_PAGES pages (8 MB) in the WAL copies them into the file and the
next one starts the WAL over. Letting it grow to the store's 64 MB backstop
(store/wal.py) made every ~3 s of a 4,500/s load one commit that fsynced and copied
64 MB while it held the turn, 50 to 300 ms during which every webhook of every intake
process waited. bench_webhooks.py's rounds (16 connections, worker draining), configs
alternating in one run, three runs on a shared 2-core machine (load average 11 to 14):
median p99 100, 95, 114 ms and 4,481, 4,848, 4,649 POST/s at the backstop; 61, 67, 81 ms
and 3,996, 3,989, 3,851 POST/s at 2,000 pages. Smaller costs more throughput for little
more (1,000 pages: 66 ms, 3,563/s; 500: 55 ms, 3,393/s, each a checkpoint's fsyncs with
the turn held); a checkpointing thread beside the writers did not help (its fsyncs
compete with the commits, and the WAL never starts over while they commit, store/wal.py).
The worker's mover never checkpoints inside its commit (it runs at a lower CPU priority
and would hold the turn meanwhile); it checkpoints after the move, outside the turn.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: one intake process (in-process serve), threads only
    fcntl = None  # type: ignore[assignment]

from .base import StoreBase, connect
from .wal import WalOps, WriteTurn
from .webhooks import WebhookOps

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_events (
    source TEXT NOT NULL, event_id TEXT NOT NULL, received_at TEXT, rows INTEGER,
    PRIMARY KEY (source, event_id));
CREATE INDEX IF NOT EXISTS webhook_events_received ON webhook_events (received_at);
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY, source TEXT NOT NULL, stream TEXT NOT NULL,
    external_id TEXT NOT NULL, content_hash TEXT NOT NULL, raw TEXT NOT NULL, origin TEXT,
    received_at TEXT, status TEXT NOT NULL);
"""
_COLUMNS = "source, stream, external_id, content_hash, raw, origin, received_at, status"
MOVE_ROWS = 2000  # rows the worker moves per step: a step (and so a drain) stays short
CHECKPOINT_PAGES = 2000  # WAL pages (4 KB) past which a webhook commit checkpoints (above)


def intake_path(store_path: str | Path) -> Path:
    """hub.db -> hub.intake.db, beside the store."""
    p = Path(store_path)
    return p.with_name(f"{p.stem}.intake{p.suffix or '.db'}")


class FileTurn:
    """A lock shared by processes through flock(2) on `path` (and by the threads of one
    process through a threading.Lock: flock is held per open file). The `lock` a
    WriteTurn takes: acquire(timeout) waits however long (the holder is a short commit,
    and the kernel releases a dead holder's lock), release()."""

    def __init__(self, path: str | Path) -> None:
        self._fd = os.open(str(path), os.O_RDWR | os.O_CREAT, 0o600)
        self._threads = threading.Lock()

    def acquire(self, timeout: float = -1) -> bool:
        self._threads.acquire()
        try:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_EX)  # releases the GIL while it waits
        except BaseException:
            self._threads.release()
            raise
        return True

    def release(self) -> None:
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    def close(self) -> None:
        os.close(self._fd)


class IntakeFile(WebhookOps, WalOps, StoreBase):
    """The intake file's connection: `add_webhook_events` (WebhookOps) writes it;
    `move_into` empties it into the store."""

    turn: FileTurn

    @classmethod
    def open(cls, path: str | Path, *, checkpoints: bool = True) -> Any:
        """`checkpoints=False`: this connection's commits never checkpoint (the worker's
        mover: it checkpoints after each move, outside the turn)."""
        db = connect(path)
        db.conn.executescript(_SCHEMA)
        intake = cls(db)
        intake.turn = FileTurn(f"{path}.lock")
        intake.write_turn = WriteTurn(intake.turn)
        intake.autocheckpoint(CHECKPOINT_PAGES if checkpoints else 0)  # small and often (above)
        return intake

    def close(self) -> None:
        super().close()
        self.turn.close()

    def waiting(self) -> int:
        """Rows not yet moved into the store."""
        return int(self._one("SELECT count(*) FROM inbox"))

    def move_into(self, store: StoreBase, *, limit: int = MOVE_ROWS) -> int:
        """Move up to `limit` rows, oldest first, into the store's inbox (rows already
        there are skipped by its key); how many were moved. Then a passive checkpoint of
        this file, so that its WAL starts over while the intake processes write on."""
        rows = self.conn.execute(
            f"SELECT id, {_COLUMNS} FROM inbox ORDER BY id LIMIT ?", (limit,)
        ).fetchall()
        if not rows:
            return 0
        with store.atomic():
            store.conn.executemany(
                f"INSERT INTO inbox ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                [r[1:] for r in rows],
            )
        with self.atomic():
            self.conn.execute("DELETE FROM inbox WHERE id <= ?", (rows[-1][0],))
        self.checkpoint()
        return len(rows)
