"""Source records their source removed: a mark on the record's guest link."""

from __future__ import annotations

from datetime import datetime

from .base import StoreBase, ts


class RemovalOps(StoreBase):
    def set_link_removed(
        self,
        *,
        source: str,
        stream: str,
        external_id: str,
        removed: bool,
        now: datetime | None = None,
    ) -> str | None:
        """Mark (or unmark) a linked source record as removed by its source.

        Returns the linked guest's id when marking, None when the record was never linked
        (or when unmarking: nothing is looked up then).
        """
        key = (source, stream, external_id)
        if removed:
            self.conn.execute(
                "UPDATE guest_links SET removed_at = coalesce(removed_at, ?)"
                " WHERE source = ? AND stream = ? AND external_id = ?",
                (ts(now), *key),
            )
        else:
            self.conn.execute(
                "UPDATE guest_links SET removed_at = NULL"
                " WHERE source = ? AND stream = ? AND external_id = ? AND removed_at IS NOT NULL",
                key,
            )
            return None
        return self._one(
            "SELECT guest_id FROM guest_links WHERE source = ? AND stream = ? AND external_id = ?",
            key,
        )

    def link_removed_at(self, source: str, stream: str, external_id: str) -> datetime | None:
        value = self._one(
            "SELECT removed_at FROM guest_links WHERE source = ? AND stream = ?"
            " AND external_id = ?",
            (source, stream, external_id),
        )
        return datetime.fromisoformat(value) if value else None
