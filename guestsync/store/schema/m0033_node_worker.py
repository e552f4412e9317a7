"""0033: the state of each `serve` node's worker, beaten with the node (serve/nodes.py):
'up', 'down' (its worker died or is being restarted), NULL for a node that runs no
worker; `guestsync status` and /metrics show every node and its worker."""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0033_node_worker")
def m0033_node_worker(db: Database) -> None:
    if "worker" not in {c.name for c in db.table("nodes").columns}:
        db.conn.execute("ALTER TABLE nodes ADD COLUMN worker TEXT")
