"""Read-only streams for exports: rows come from a cursor, never a whole table in memory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..models import ORDER_COLUMNS, RESERVATION_COLUMNS, Guest
from .base import StoreBase


class ExportOps(StoreBase):
    def stream_guests(self) -> Iterator[Guest]:
        """Golden guests, oldest first, one at a time (a separate cursor, so it can be
        read while other statements run)."""
        cur = self.conn.cursor()
        cur.arraysize = 500
        for (data,) in cur.execute(
            "SELECT data FROM guests WHERE merged_into IS NULL ORDER BY created_at, id"
        ):
            yield Guest.model_validate_json(data)

    def stream_guest_reservations(self) -> Iterator[tuple[Guest, dict[str, Any] | None]]:
        """Each guest with each of their reservations (oldest first); a guest without any
        comes once, with None."""
        return self._stream_guest_rows("reservations", RESERVATION_COLUMNS, "start_at")

    def stream_guest_orders(self) -> Iterator[tuple[Guest, dict[str, Any] | None]]:
        """Each guest with each of their orders (oldest first); a guest without any comes
        once, with None. Orders of guests merged away were re-homed to the keeper."""
        return self._stream_guest_rows("orders", ORDER_COLUMNS, "placed_at")

    def _stream_guest_rows(
        self, table: str, columns: tuple[str, ...], order_by: str
    ) -> Iterator[tuple[Guest, dict[str, Any] | None]]:
        cols = ", ".join(f"r.{c}" for c in columns)
        cur = self.conn.cursor()
        cur.arraysize = 500
        rows = cur.execute(
            f"SELECT g.data, r.source, {cols} FROM guests g"
            f" LEFT JOIN {table} r ON r.guest_id = g.id WHERE g.merged_into IS NULL"
            f" ORDER BY g.created_at, g.id, r.{order_by}, r.source, r.external_id"
        )
        for data, source, *values in rows:
            row = dict(zip(columns, values, strict=True)) if source is not None else None
            yield Guest.model_validate_json(data), row
