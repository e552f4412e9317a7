"""Imported files (each CSV imported once, by content hash) and pull-stream cursors."""

from __future__ import annotations

from .base import StoreBase, ts


class SourceOps(StoreBase):
    def file_imported(self, source: str, content_hash: str) -> str | None:
        """Where a file with these bytes was imported from before, if it was."""
        return self._one(
            "SELECT path FROM imported_files WHERE source = ? AND content_hash = ?",
            (source, content_hash),
        )

    def record_imported_file(
        self, source: str, content_hash: str, *, path: str, size: int, rows: int
    ) -> None:
        self.conn.execute(
            "INSERT INTO imported_files (source, content_hash, path, size, rows, imported_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source, content_hash) DO UPDATE SET"
            " path = excluded.path, rows = excluded.rows, imported_at = excluded.imported_at",
            (source, content_hash, path, size, rows, ts()),
        )

    def cursors(self, source: str | None = None) -> list[tuple[str, str, str, str]]:
        """(source, stream, value, updated_at) of every pull stream."""
        return self.conn.execute(
            "SELECT source, stream, value, updated_at FROM cursors"
            " WHERE (? IS NULL OR source = ?) ORDER BY source, stream",
            (source, source),
        ).fetchall()

    def clear_cursors(self, source: str) -> None:
        """Forget where `source`'s streams stopped: the next pull starts from the start."""
        self.conn.execute("DELETE FROM cursors WHERE source = ?", (source,))

    def inbox_errors_from(self, source: str, origin_prefix: str) -> list[tuple[str, str, str]]:
        """(origin, raw, error) of rejected rows whose origin starts with the prefix."""
        return self.conn.execute(
            "SELECT origin, raw, error FROM inbox WHERE status = 'error' AND source = ?"
            " AND substr(origin, 1, ?) = ? ORDER BY id",
            (source, len(origin_prefix), origin_prefix),
        ).fetchall()

    def count_pending(self) -> int:
        return self._one("SELECT count(*) FROM inbox WHERE status = 'pending'")
