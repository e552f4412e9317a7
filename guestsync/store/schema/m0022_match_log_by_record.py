"""0022: the match log is found by record, not by guest. `guests explain` reads a guest's
links (stored together, m0020) and then the decisions about those records, by an index
on the record reference. Record ids mostly grow as sources hand them out, so a batch's
decisions land on the last pages of that index; the index by guest id put each decision
on the page of its guest, anywhere in the index: at a million records it was 570 of the
3,778 pages a batch of 500 records wrote. Decisions with no record (a manual merge, a
rejected review) keep a small index by guest.
"""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0022_match_log_by_record")
def m0022_match_log_by_record(db: Database) -> None:
    db.conn.execute("DROP INDEX IF EXISTS match_log_guest")
    db.conn.execute(
        "CREATE INDEX IF NOT EXISTS match_log_record ON match_log (source, stream, external_id)"
    )
    db.conn.execute(
        "CREATE INDEX IF NOT EXISTS match_log_manual ON match_log (guest_id) WHERE source IS NULL"
    )
