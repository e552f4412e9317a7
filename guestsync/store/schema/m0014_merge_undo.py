"""0014: a guest merge undone (`guests unmerge`) before delivery carried it out to a CRM
must not be carried out any more: `guest_merges.undone_at` marks it."""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0014_merge_undo")
def m0014(db: Database) -> None:
    db.table("guest_merges").add_column("undone_at", str)
