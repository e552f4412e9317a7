"""0006: files already imported (by content hash), so a file is imported once."""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0006_sources")
def m0006(db: Database) -> None:
    db.table("imported_files").create(
        {
            "content_hash": str,  # sha256 of the file's bytes
            "source": str,
            "path": str,  # where it was when imported
            "size": int,
            "rows": int,
            "imported_at": str,
        },
        pk=("source", "content_hash"),
    )
