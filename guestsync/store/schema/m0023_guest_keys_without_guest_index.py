"""0023: `guest_keys` loses its index by guest id (and with it the foreign key to guests,
which needed that index to check a deleted guest). A guest's keys are exactly the keys
of its linked records' features, so whoever changes a guest's links knows which keys to
add or drop (process/resolve.py) and finds them by (key, guest id), the table's own order.
The index was as large as the table (a key row is mostly its guest id) and took a random
page per new key: at a million records, 362 of the 3,778 pages a batch of 500 records
wrote, and half the table's share of SQLite's page cache.

A guest noted to settle with `dirty_guests.rekey` before this migration (an import that
stopped half-way) may keep a key of a record that changed: such a key only makes the
guest a candidate, which scoring then turns down.
"""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0023_guest_keys_without_guest_index")
def m0023_guest_keys_without_guest_index(db: Database) -> None:
    conn = db.conn
    conn.execute(
        "CREATE TABLE guest_keys_new (key INTEGER NOT NULL, guest_id TEXT NOT NULL,"
        " PRIMARY KEY (key, guest_id)) WITHOUT ROWID"
    )
    conn.execute("INSERT INTO guest_keys_new SELECT key, guest_id FROM guest_keys ORDER BY 1, 2")
    conn.execute("DROP TABLE guest_keys")
    conn.execute("ALTER TABLE guest_keys_new RENAME TO guest_keys")
