"""0032: who has claimed a pending inbox row, and until when (store/inbox.py
`claim_inbox`): workers on several nodes sharing one PostgreSQL store take disjoint
windows of the backlog. Empty on SQLite, where one writer processes the inbox."""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0032_inbox_claims")
def m0032_inbox_claims(db: Database) -> None:
    have = {c.name for c in db.table("inbox").columns}
    for name in ("claimed_by", "claimed_until"):
        if name not in have:
            db.conn.execute(f"ALTER TABLE inbox ADD COLUMN {name} TEXT")
