"""Inbox (raw records as received) and cursors (where each pull stream got to)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..models import InboxEntry
from .base import StoreBase, ts


@dataclass(frozen=True)
class InboxRow:
    id: int
    source: str
    stream: str
    external_id: str
    raw: str
    origin: str
    received_at: datetime
    status: str = "pending"
    error: str | None = None


class InboxOps(StoreBase):
    def add_to_inbox(self, entries: Iterable[InboxEntry], *, now: datetime | None = None) -> int:
        """Insert raw records; one already there (same source, stream, id, hash) is skipped.

        Returns how many were new.
        """
        now_ts = ts(now)
        cur = self.conn.executemany(
            "INSERT INTO inbox (source, stream, external_id, content_hash, raw,"
            " origin, received_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')"
            " ON CONFLICT DO NOTHING",
            [
                (e.source, e.stream, e.external_id, e.content_hash, e.raw, e.origin, now_ts)
                for e in entries
            ],
        )
        return cur.rowcount

    def pending_inbox(self, *, limit: int, after_id: int = 0) -> list[InboxRow]:
        rows = self.conn.execute(
            "SELECT id, source, stream, external_id, raw, origin, received_at FROM inbox"
            " WHERE status = 'pending' AND id > ? ORDER BY id LIMIT ?",
            (after_id, limit),
        ).fetchall()
        return [
            InboxRow(r[0], r[1], r[2], r[3], r[4], r[5], datetime.fromisoformat(r[6])) for r in rows
        ]

    def mark_inbox_done(self, ids: Sequence[int]) -> None:
        now_ts = ts()
        self.conn.executemany(
            "UPDATE inbox SET status = 'done', error = NULL, processed_at = ? WHERE id = ?",
            [(now_ts, i) for i in ids],
        )

    def mark_inbox_error(self, inbox_id: int, reason: str) -> None:
        self.conn.execute(
            "UPDATE inbox SET status = 'error', error = ?, processed_at = ? WHERE id = ?",
            (reason, ts(), inbox_id),
        )

    def inbox_errors(self, *, source: str | None = None, limit: int = 1000) -> list[InboxRow]:
        rows = self.conn.execute(
            "SELECT id, source, stream, external_id, raw, origin, received_at, status, error"
            " FROM inbox WHERE status = 'error' AND (? IS NULL OR source = ?)"
            " ORDER BY id LIMIT ?",
            (source, source, limit),
        ).fetchall()
        return [
            InboxRow(r[0], r[1], r[2], r[3], r[4], r[5], datetime.fromisoformat(r[6]), r[7], r[8])
            for r in rows
        ]

    def inbox_counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT status, count(*) FROM inbox GROUP BY status")
        return dict(rows.fetchall())

    # cursors

    def get_cursor(self, source: str, stream: str) -> str | None:
        return self._one(
            "SELECT value FROM cursors WHERE source = ? AND stream = ?", (source, stream)
        )

    def set_cursor(self, source: str, stream: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO cursors (source, stream, value, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (source, stream) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            (source, stream, value, ts()),
        )
