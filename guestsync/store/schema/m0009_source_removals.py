"""0009: a source record its source removed (Jiandaoyun data_remove) is marked on its link.

The guest and the link stay (the person is still real); `removed_at` says since when the
source no longer has the record, and is cleared when the source restores it.
"""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0009_source_removals")
def m0009(db: Database) -> None:
    db.table("guest_links").add_column("removed_at", str)
