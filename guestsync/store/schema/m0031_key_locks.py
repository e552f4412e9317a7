"""0031: one row per lock a worker's window may take on PostgreSQL (a blocking key's
hash, a source record's), locked with SELECT ... FOR UPDATE (store/keylocks.py). Row
locks live in the rows, not in PostgreSQL's shared lock table, which advisory locks
fill up (max_locks_per_transaction) at a few thousand per window. Empty on SQLite."""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0031_key_locks")
def m0031_key_locks(db: Database) -> None:
    db.conn.execute("CREATE TABLE IF NOT EXISTS key_locks (key INTEGER PRIMARY KEY)")
