"""0024: the few links a source removed (a voided bill, a deleted booking), by (source,
external id). `guestsync report` leaves out the reservations and orders of removed
records with a NOT EXISTS on exactly these columns; without this index each reservation
searched every link of its source (the ref index has `stream` between them), so the
report grew with the square of the bookings. The index holds removed links only.
"""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0024_removed_links_index")
def m0024_removed_links_index(db: Database) -> None:
    db.conn.execute(
        "CREATE INDEX IF NOT EXISTS guest_links_removed ON guest_links (source, external_id)"
        " WHERE removed_at IS NOT NULL"
    )
