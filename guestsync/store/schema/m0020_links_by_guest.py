"""0020: `guest_links` is stored in guest order: a WITHOUT ROWID table keyed by
(guest_id, source, stream, external_id), with a unique index by record reference (the
upsert target, and how a record finds its guest).

It was a rowid table in arrival order with an index by guest id: reading one guest's
records, which resolution does for every candidate guest of every record and the golden
record refresh does for every touched guest, took a page per record, pages scattered
across a table that outgrows the page cache. Now a guest's records share a page.
"""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0020_links_by_guest")
def m0020_links_by_guest(db: Database) -> None:
    conn = db.conn
    cols = "source, stream, external_id, guest_id, record, seen_at, features, pinned, removed_at"
    conn.execute(
        "CREATE TABLE guest_links_new (source TEXT NOT NULL, stream TEXT NOT NULL,"
        " external_id TEXT NOT NULL, guest_id TEXT NOT NULL REFERENCES guests(id),"
        " record TEXT, seen_at TEXT, features TEXT, pinned INTEGER NOT NULL DEFAULT 0,"
        " removed_at TEXT, PRIMARY KEY (guest_id, source, stream, external_id)) WITHOUT ROWID"
    )
    conn.execute(
        f"INSERT INTO guest_links_new ({cols}) SELECT {cols} FROM guest_links"
        " ORDER BY guest_id, source, stream, external_id"
    )
    conn.execute("DROP TABLE guest_links")
    conn.execute("ALTER TABLE guest_links_new RENAME TO guest_links")
    conn.execute("CREATE UNIQUE INDEX guest_links_ref ON guest_links (source, stream, external_id)")
