"""0016: guests whose golden record, aggregates and CRM payloads are due for recomputing.

The process stage links records batch by batch and notes each guest it touched here, in
the batch's own transaction; `process.settle_dirty` recomputes each noted guest once, at
the end of the run, however many batches touched it (a guest with three rows spread over
a large import is settled once, not three times). A crash in between loses nothing: the
next run settles what is left."""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0016_dirty_guests")
def m0016(db: Database) -> None:
    db.table("dirty_guests").create(
        {"guest_id": str, "rekey": int}, pk="guest_id", not_null={"rekey"}
    )
