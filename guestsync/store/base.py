"""The connection, transactions and small helpers every part of the store shares."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from .schema import load_all


def utcnow() -> datetime:
    return datetime.now(UTC)


def ts(dt: datetime | None = None) -> str:
    """A timestamp as stored: ISO 8601 in UTC, microseconds, so strings sort as times."""
    return (dt or utcnow()).astimezone(UTC).isoformat(timespec="microseconds")


def connect(path: str | Path) -> Database:
    """A connection as every SQLite file of guestsync is opened: WAL (a reader never
    blocks the writer), synchronous=NORMAL, foreign keys on, autocommit outside `atomic`."""
    memory = str(path) == ":memory:"
    if not memory:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    db = Database(conn)
    if not memory:
        db.enable_wal()
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    # 32 MB of page cache (default 2 MB), taken only as the database grows: more of a
    # batch's index pages stay in memory until COMMIT. bench_identity.py at 100k
    # records: about 5% less CPU per record than 2 MB (64 MB: a little more, but +60 MB
    # RSS in the CSV pipeline, which must stay under 300 MB); mmap_size: no gain.
    conn.execute("PRAGMA cache_size = -32768")
    return db


class StoreBase:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.conn: sqlite3.Connection = db.conn
        # held around each outermost transaction when set: writers of one store that
        # share it queue on it in turn instead of polling SQLite's busy handler (store/wal.py)
        self.write_turn: AbstractContextManager[Any] = nullcontext()

    @classmethod
    def open(cls, path: str | Path) -> Any:
        """Open (creating if needed) and migrate the store at `path` (":memory:" works)."""
        db = connect(path)
        load_all().apply(db)
        return cls(db)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def atomic(self) -> Iterator[Any]:
        """A transaction; nested calls are savepoints.

        The outermost one is BEGIN IMMEDIATE: it takes the write lock at once (waiting up
        to the busy timeout). A deferred transaction that reads first and writes later
        fails at once with "database is locked" if another connection committed in
        between (WAL snapshot), whatever the timeout: under `guestsync serve` the webhook
        writer commits all the time, and the worker's process batches read first."""
        if self.conn.in_transaction:  # a savepoint; the name need not be unique (a stack)
            self.conn.execute("SAVEPOINT nested")
            try:
                yield self
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK TO nested")
                    self.conn.execute("RELEASE nested")
                raise
            self.conn.execute("RELEASE nested")
            return
        with self.write_turn:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                if self.conn.in_transaction:  # an error may have ended it already
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None
