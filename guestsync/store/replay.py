"""Replay: put inbox rows that failed mapping back in the queue, once the mapping is fixed."""

from __future__ import annotations

from .base import StoreBase


class ReplayOps(StoreBase):
    def requeue_inbox_errors(self, *, source: str | None = None) -> int:
        """Reset `error` rows (of one source, or all) to `pending`; returns how many.

        The raw record is untouched: the next process stage maps it with the current
        mapping, and marks it `done` or `error` (with the new reason) again.
        """
        with self.atomic():
            cur = self.conn.execute(
                "UPDATE inbox SET status = 'pending', error = NULL, processed_at = NULL"
                " WHERE status = 'error' AND (? IS NULL OR source = ?)",
                (source, source),
            )
        return cur.rowcount
