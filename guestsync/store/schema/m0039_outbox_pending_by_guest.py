"""0039: a guest's pending outbox rows, by guest: a partial index of the pending rows.

`cancel_outbox` closes a guest's pending rows for every target when the guest is merged
away or forgotten; the outbox's own indexes lead with the target, so without a target
that was a scan of the whole outbox (a row per guest and target) for each merge. Only
pending rows are in the index, so it stays as small as the backlog.
"""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0039_outbox_pending_by_guest")
def m0039_outbox_pending_by_guest(db: Database) -> None:
    db.conn.execute(
        "CREATE INDEX IF NOT EXISTS outbox_pending_guest ON outbox (guest_id)"
        " WHERE status = 'pending'"
    )
