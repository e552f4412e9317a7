"""Guests to settle: noted by the process stage, settled once per run (m0016)."""

from __future__ import annotations

from collections.abc import Iterable

from .base import StoreBase


class DirtyOps(StoreBase):
    def mark_dirty(self, guest_ids: Iterable[str]) -> None:
        """Note guests to settle. (The `rekey` column is from before m0023, when a guest's
        blocking keys were rebuilt as it settled; they are kept exact as links change now.)"""
        self.conn.executemany(
            "INSERT INTO dirty_guests (guest_id, rekey) VALUES (?, 0) ON CONFLICT DO NOTHING",
            [(g,) for g in sorted(set(guest_ids))],
        )

    def dirty_guests(self, limit: int) -> list[str]:
        """Up to `limit` noted guests, in id order."""
        rows = self.conn.execute(
            "SELECT guest_id FROM dirty_guests ORDER BY guest_id LIMIT ?", (limit,)
        )
        return [g for (g,) in rows]

    def clear_dirty(self, guest_ids: Iterable[str]) -> None:
        self.conn.executemany(
            "DELETE FROM dirty_guests WHERE guest_id = ?", [(g,) for g in guest_ids]
        )

    def count_dirty(self) -> int:
        return int(self._one("SELECT count(*) FROM dirty_guests") or 0)
