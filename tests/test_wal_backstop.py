"""A writer that leaves WAL checkpoints to another connection (serve, large imports)
still keeps its WAL bounded: a checkpoint running beside a writer that never pauses
never finds the WAL fully copied, so without the writer's own backstop the WAL is never
started over and grows with everything written (store/wal.py)."""

from __future__ import annotations

import os
from pathlib import Path

from guestsync.store import Store
from guestsync.store.checkpointer import Checkpointer

PAGE = 4096


def _write(store: Store, transactions: int, rows: int) -> None:
    """Each row a page of random bytes: two pages of the WAL (the row and its overflow)."""
    store.conn.execute("CREATE TABLE IF NOT EXISTS scratch (blob BLOB)")
    for _ in range(transactions):
        with store.atomic():
            store.conn.executemany(
                "INSERT INTO scratch (blob) VALUES (?)", [(os.urandom(PAGE),)] * rows
            )


def _wal_pages(path: Path) -> float:
    return Path(f"{path}-wal").stat().st_size / PAGE


def test_a_writer_deferring_checkpoints_starts_its_wal_over_past_the_backstop(tmp_path):
    path = tmp_path / "hub.db"
    store = Store.open(path)
    store.defer_checkpoints(backstop=200)
    _write(store, transactions=100, rows=50)  # about 10,000 pages written to the WAL
    assert _wal_pages(path) < 200 + 2 * 110  # the backstop, and two transactions past it
    assert store.conn.execute("SELECT count(*) FROM scratch").fetchone()[0] == 5000
    store.close()


def test_the_wal_stays_bounded_beside_a_checkpoint_thread(tmp_path):
    path = tmp_path / "hub.db"
    store = Store.open(path)
    store.defer_checkpoints(backstop=200)
    checkpointer = Checkpointer(path, interval=0.005).start()
    try:
        _write(store, transactions=200, rows=50)  # about 20,000 pages
    finally:
        checkpointer.stop()
    assert checkpointer.runs > 0
    # The writer's checkpoint is skipped while the thread's runs: the WAL may pass the
    # backstop by a few transactions, more on a loaded machine, where the thread's runs
    # take longer (once past 2000 pages beside four other busy processes on two cores);
    # without the backstop it holds everything written, about 12,000 pages.
    assert _wal_pages(path) < 4000
    assert store.conn.execute("SELECT count(*) FROM scratch").fetchone()[0] == 10000
    store.close()
