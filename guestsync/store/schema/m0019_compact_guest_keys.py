"""0019: `guest_keys` keeps an integer hash of each blocking key (store/keyhash.py)
instead of its kind and value: a WITHOUT ROWID table keyed by (key, guest_id) and an
index by guest id (merges, rekeying and erasure find a guest's keys by it), where there
were a rowid table, its unique (kind, value, guest_id) index and the guest index, all
of text: 47 instead of 84 MB at 100k records in bench_identity.py, and with keys of one
name side by side (keyhash.py), fewer pages to read per record as the store grows.

Existing rows are rebuilt by hashing their kind and value (rows of guests that no
longer exist, possible only if foreign keys were off, are dropped).
"""

from __future__ import annotations

from sqlite_utils import Database

from ..keyhash import key_hash
from . import migrations


@migrations(name="0019_compact_guest_keys")
def m0019_compact_keys(db: Database) -> None:
    conn = db.conn
    conn.create_function("guestsync_key_hash", 2, key_hash, deterministic=True)
    conn.execute(
        "CREATE TABLE guest_keys_new (key INTEGER NOT NULL,"
        " guest_id TEXT NOT NULL REFERENCES guests(id), PRIMARY KEY (key, guest_id))"
        " WITHOUT ROWID"
    )
    conn.execute(
        "INSERT OR IGNORE INTO guest_keys_new (key, guest_id)"
        " SELECT guestsync_key_hash(kind, value), guest_id FROM guest_keys"
        " WHERE guest_id IN (SELECT id FROM guests) ORDER BY 1, 2"
    )
    conn.execute("DROP TABLE guest_keys")
    conn.execute("ALTER TABLE guest_keys_new RENAME TO guest_keys")
    conn.execute("CREATE INDEX guest_keys_guest ON guest_keys (guest_id)")
