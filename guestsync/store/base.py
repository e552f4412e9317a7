"""The connection, transactions and small helpers every part of the store shares."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from .keylocks import KeyLockOps, KeyLocks
from .pg_schema import applied as pg_applied
from .pg_schema import migrate as migrate_postgres
from .postgres import PgConnection
from .schema import load_all


def utcnow() -> datetime:
    return datetime.now(UTC)


T = TypeVar("T")
IN_LIST = 500  # values per IN (...) list: well under SQLite's 32,766 variables


def chunks(items: Sequence[T], size: int = IN_LIST) -> Iterator[list[T]]:
    """`items` in lists of at most `size`: for IN (...) lists and executemany batches."""
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def marks(n: int) -> str:
    """`n` bound parameters, as an IN (...) list or a VALUES row takes them: ?,?,?"""
    return ",".join("?" * n)


def ts(dt: datetime | None = None) -> str:
    """A timestamp as stored: ISO 8601 in UTC, microseconds, so strings sort as times."""
    return (dt or utcnow()).astimezone(UTC).isoformat(timespec="microseconds")


def stamps() -> Callable[[datetime | None], str]:
    """`ts` for the rows of one statement: each distinct time formatted once (a window's
    links share the few times its rows were received), and one "now" for all the rows
    given no time. A time with fold=1 is formatted each time: it compares equal to the
    same wall time with fold=0, another instant."""
    memo: dict[datetime | None, str] = {}

    def stamp(dt: datetime | None) -> str:
        if dt is not None and dt.fold:
            return ts(dt)
        s = memo.get(dt)
        if s is None:
            s = memo[dt] = ts(dt)
        return s

    return stamp


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
    # RSS in the CSV pipeline, which must stay under 300 MB); mmap_size: no gain. #20,
    # a 200k-row bulk import in-process: 256 MB took 2.4% less CPU (104.5 vs 107.1 s)
    # for 233 MB more peak RSS, and no shorter wall time: not worth the RSS budget.
    conn.execute("PRAGMA cache_size = -32768")
    return db


# PostgreSQL stores this process brought to the migrations' schema: opened again (a
# scheduled job's Hub, a thread's connection), they only connect (12 ms, not ~100 ms)
_MIGRATED: set[str] = set()


class StoreBase(KeyLockOps):
    def __init__(self, db: Database | PgConnection) -> None:
        # sqlite-utils' Database on SQLite; None on PostgreSQL (store/postgres.py), where
        # `conn` stands in for a sqlite3 connection: the SQL both run is written once
        self.db: Database | None = db if isinstance(db, Database) else None
        self.conn: sqlite3.Connection | PgConnection = db.conn if isinstance(db, Database) else db
        self.dialect = "sqlite" if isinstance(db, Database) else "postgresql"
        self.url: str | None = None  # a PostgreSQL store's URL (to open it again)
        # held around each outermost transaction when set: writers of one store that
        # share it queue on it in turn instead of polling SQLite's busy handler (store/wal.py)
        self.write_turn: AbstractContextManager[Any] = nullcontext()
        self._keyed: KeyLocks | None = None  # a window serialized per key (keylocks.py)

    @classmethod
    def open(cls, path: str | Path) -> Any:
        """Open (creating if needed) and migrate the store at `path` (":memory:" works)."""
        db = connect(path)
        load_all().apply(db)
        return cls(db)

    @classmethod
    def open_postgres(cls, url: str) -> Any:
        """Connect to the PostgreSQL database at `url` and bring its schema to the
        migrations' (store/pg_schema.py)."""
        conn = PgConnection.connect(url)
        try:
            if url not in _MIGRATED:  # once per process: a scheduled run, a thread reopen
                migrate_postgres(conn)
                _MIGRATED.add(url)
        except BaseException:
            conn.close()
            raise
        store = cls(conn)
        store.url = url
        return store

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def atomic(self, *, shared: bool = False) -> Iterator[Any]:
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
            self._begin(shared=shared)
            try:
                yield self
            except BaseException:
                if self.conn.in_transaction:  # an error may have ended it already
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def _begin(self, *, shared: bool) -> None:
        """BEGIN IMMEDIATE; on PostgreSQL (store/postgres.py) the write lock exclusive, or
        shared: for a window under key locks (keylocks.py), or for `shared` transactions,
        those whose writes are idempotent inserts that read nothing to decide them."""
        keyed = self._keyed is not None and not self._keyed.exclusive
        if isinstance(self.conn, PgConnection) and (shared or keyed):
            if self._keyed is not None and keyed:
                self._keyed.prepare(self.conn)  # autocommit: before BEGIN
            self.conn.execute("BEGIN")
            if self._keyed is not None and keyed:
                self._keyed.begin(self.conn)
            else:
                self.conn.execute("SELECT pg_advisory_xact_lock_shared(?)", (self.conn.WRITE_LOCK,))
            return
        self.conn.execute("BEGIN IMMEDIATE")

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def _filled(self, tables: Sequence[str]) -> set[str]:
        """Those of these tables that hold a row, in one query (a look at each one's
        first row): a set-based read of an empty table is skipped, not run per 500 ids."""
        row = self.conn.execute(
            "SELECT " + ", ".join(f"EXISTS (SELECT 1 FROM {t})" for t in tables)
        ).fetchone()
        return {t for t, filled in zip(tables, row, strict=True) if filled}

    def _rows_of_records(
        self, table: str, cols: str, refs: Iterable[tuple[str, str, str]]
    ) -> Iterator[tuple[Any, ...]]:
        """((source, stream, external id), *cols) of the rows of `table` about these source
        records: a query per stream and IN_LIST ids, for a window's records at once."""
        by_stream: dict[tuple[str, str], list[str]] = {}
        for source, stream, external_id in set(refs):
            by_stream.setdefault((source, stream), []).append(external_id)
        for (source, stream), xs in by_stream.items():
            for part in chunks(xs):
                for r in self.conn.execute(
                    f"SELECT external_id, {cols} FROM {table} WHERE source = ? AND stream = ?"
                    f" AND external_id IN ({marks(len(part))})",
                    (source, stream, *part),
                ):
                    yield ((source, stream, r[0]), *r[1:])

    def _insert_id(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run an `INSERT ... RETURNING id`; the new row's id (the portable `lastrowid`).
        fetchall: on SQLite the statement (and its write) ends only when read to the end."""
        return int(self.conn.execute(sql, params).fetchall()[0][0])

    def schema_migrations(self) -> list[str]:
        """The migrations whose schema this store has (`guestsync migrate` applied them)."""
        if isinstance(self.conn, PgConnection):
            return pg_applied(self.conn)
        return [r[0] for r in self.conn.execute("SELECT name FROM _sqlite_migrations")]

    def _as_text(self, column: str) -> str:
        """SQL for a column's value as text, bytes decoded (as SQLite's CAST does; on
        PostgreSQL a CAST of bytea gives hex digits): to search every column for a text."""
        if self.dialect == "postgresql":
            return f'gs_text("{column}")'
        return f'CAST("{column}" AS TEXT)'

    def _table_names(self) -> list[str]:
        """The store's tables (not SQLite's own, not those whose name starts with _)."""
        if self.dialect == "postgresql":
            sql = (
                "SELECT table_name FROM information_schema.tables WHERE table_schema ="
                " current_schema() AND table_type = 'BASE TABLE'"
            )
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        return sorted(r[0] for r in self.conn.execute(sql) if not r[0].startswith("_"))

    def _column_names(self, table: str) -> list[str]:
        if self.dialect == "postgresql":
            rows = self.conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema ="
                " current_schema() AND table_name = ? ORDER BY ordinal_position",
                (table,),
            )
            return [r[0] for r in rows]
        return [r[1] for r in self.conn.execute(f'PRAGMA table_info("{table}")')]
