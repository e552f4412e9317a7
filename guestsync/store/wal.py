"""The write-ahead log: who checkpoints it, and when.

SQLite checkpoints the WAL from the connection whose commit crosses 1000 pages, inside
that commit's call: with synchronous=NORMAL that is two fsyncs. On the webhook writer's
connection that stalls every request queued behind it (measured: the p99 of a group
commit went from ~7 ms to ~20 ms). So `guestsync serve` turns automatic checkpoints off
on that connection and checkpoints from a connection of its own instead (WAL: a
checkpoint never blocks a writer)."""

from __future__ import annotations

from .base import StoreBase


class WalOps(StoreBase):
    def file_path(self) -> str | None:
        """The database file of this connection; None for an in-memory store."""
        for _, name, file in self.conn.execute("PRAGMA database_list").fetchall():
            if name == "main":
                return file or None
        return None

    def defer_checkpoints(self) -> None:
        """This connection's commits never checkpoint: another connection does."""
        self.conn.execute("PRAGMA wal_autocheckpoint = 0")

    def checkpoint(self) -> tuple[int, int]:
        """Copy what it can of the WAL into the database without waiting for readers or
        writers (PASSIVE); (frames in the WAL, frames copied)."""
        _, in_log, copied = self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return in_log, copied
