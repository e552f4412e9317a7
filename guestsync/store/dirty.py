"""Guests to settle: noted by the process stage, settled once per run (m0016)."""

from __future__ import annotations

from collections.abc import Iterable

from .base import StoreBase


class DirtyOps(StoreBase):
    def mark_dirty(self, guest_ids: Iterable[str], rekey: Iterable[str] = ()) -> None:
        """Note guests to settle; `rekey`: those whose blocking keys must be rebuilt."""
        again = set(rekey)
        self.conn.executemany(
            "INSERT INTO dirty_guests (guest_id, rekey) VALUES (?, ?)"
            " ON CONFLICT (guest_id) DO UPDATE SET rekey = max(rekey, excluded.rekey)",
            [(g, int(g in again)) for g in sorted(set(guest_ids) | again)],
        )

    def dirty_guests(self, limit: int) -> list[tuple[str, bool]]:
        """Up to `limit` noted guests (id, rekey), in id order."""
        rows = self.conn.execute(
            "SELECT guest_id, rekey FROM dirty_guests ORDER BY guest_id LIMIT ?", (limit,)
        )
        return [(g, bool(r)) for g, r in rows]

    def clear_dirty(self, guest_ids: Iterable[str]) -> None:
        self.conn.executemany(
            "DELETE FROM dirty_guests WHERE guest_id = ?", [(g,) for g in guest_ids]
        )

    def count_dirty(self) -> int:
        return int(self._one("SELECT count(*) FROM dirty_guests") or 0)
