"""0027: reservations by (source, status), a covering index for `guestsync report`'s
no-show counts: counting by source and status then reads this small index, not every
reservation row (venue, requests, times), which at 100k bookings was most of the report.
"""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0027_reservations_by_status")
def m0027_reservations_by_status(db: Database) -> None:
    db.conn.execute(
        "CREATE INDEX IF NOT EXISTS reservations_by_status ON reservations (source, status)"
    )
