"""Replay: put inbox rows that failed mapping back in the queue, once the mapping is fixed."""

from __future__ import annotations

from .base import StoreBase

# An id-only webhook row whose fetch failed (webhooks/fetch.py) is marked `error` with
# this prefix; replaying it means fetching again, not mapping the id-only event.
FETCH_FAILED = "fetch failed: "


class ReplayOps(StoreBase):
    def requeue_inbox_errors(self, *, source: str | None = None) -> int:
        """Reset `error` rows (of one source, or all) to `pending`; returns how many.

        The raw record is untouched: the next process stage maps it with the current
        mapping, and marks it `done` or `error` (with the new reason) again. A webhook row
        whose fetch failed goes back to `fetch` instead: the worker fetches it first.
        """
        with self.atomic():
            cur = self.conn.execute(
                "UPDATE inbox SET status = CASE WHEN substr(error, 1, ?) = ?"
                " THEN 'fetch' ELSE 'pending' END, error = NULL, processed_at = NULL"
                " WHERE status = 'error' AND (? IS NULL OR source = ?)",
                (len(FETCH_FAILED), FETCH_FAILED, source, source),
            )
        return cur.rowcount

    def count_to_fetch(self, *, source: str | None = None) -> int:
        """Rows waiting for a fetch (of one source, or all)."""
        row = self.conn.execute(
            "SELECT count(*) FROM inbox WHERE status = 'fetch' AND (? IS NULL OR source = ?)",
            (source, source),
        ).fetchone()
        return int(row[0])
