"""0021: the match log's index by candidate leaves out the rows whose candidate is the
guest the record was linked to (most merges: the record joins the guest it matched) and
the rows with no candidate: the index by guest id finds those. At a million records this
index took 774 of the 4,362 pages a batch of 500 records wrote, and now about a third.
"""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0021_match_log_candidate_index")
def m0021_match_log_candidate_index(db: Database) -> None:
    db.conn.execute("DROP INDEX IF EXISTS match_log_candidate")
    db.conn.execute(
        "CREATE INDEX match_log_candidate ON match_log (candidate) WHERE candidate != guest_id"
    )
