"""0036: guests by `merged_into`, a partial index of the guests merged away.

`merged_family` (store/privacy.py) asks, for each guest of a merge, which guests were
merged into it: without an index that was a scan of every guest, so each merge cost in
proportion to the store (at 40k records, 121 merges took 5% of resolving; at a million
guests, a scan each). Only guests merged away are in the index (`merged_into IS NOT
NULL`), so it stays small and the guests' other writes do not pay for it.
"""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0036_guests_merged_into")
def m0036_guests_merged_into(db: Database) -> None:
    db.conn.execute(
        "CREATE INDEX IF NOT EXISTS guests_merged_into ON guests (merged_into)"
        " WHERE merged_into IS NOT NULL"
    )
