"""0032 (2): the `serve` processes sharing the store, one row each, beaten every few
seconds (serve/nodes.py), so that `guestsync status` lists every node and when it was
last seen."""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0032_nodes")
def m0032_nodes(db: Database) -> None:
    db.conn.execute(
        "CREATE TABLE IF NOT EXISTS nodes (id TEXT PRIMARY KEY, host TEXT NOT NULL,"
        " pid INTEGER NOT NULL, role TEXT NOT NULL, started_at TEXT NOT NULL,"
        " last_seen TEXT NOT NULL)"
    )
