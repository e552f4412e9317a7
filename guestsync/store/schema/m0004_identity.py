"""0004: identity resolution: match log, review queue, merges, link features.

- guest_links.features: the record's folded comparison values (JSON), so a candidate's
  records are compared without re-folding names; guest_links.pinned: set by a manual
  merge/unmerge so automatic resolution never moves that record again.
- guests.merged_into: a guest merged away points at the guest that absorbed it (kept so
  delivery can merge the two CRM contacts and old ids keep resolving).
- match_log: every decision with its candidate, field scores and outcome.
- review_queue: pairs between the two thresholds, waiting for a person.
- merges: every merge (automatic, manual, accepted review) with the links it moved, so
  an unmerge can put them back and delivery can push a CRM merge.
"""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0004_identity")
def m0004(db: Database) -> None:
    db.table("guest_links").add_column("features", str)
    db.table("guest_links").add_column("pinned", int, not_null_default=0)
    db.table("guests").add_column("merged_into", str)
    db.table("guests").create_index(["created_at", "id"], index_name="guests_created")
    db.table("match_log").create(
        {
            "id": int,
            "at": str,
            "source": str,
            "stream": str,
            "external_id": str,
            "guest_id": str,  # the guest the record went to
            "candidate": str,  # the guest it was compared with (NULL: no candidate)
            "candidate_ref": str,  # that guest's best-matching record
            "score": float,
            "fields": str,  # JSON: field -> {level, sim, w}
            "outcome": str,  # merge | review | new | manual_merge | unmerge | accepted | rejected
        },
        pk="id",
    )
    db.table("match_log").create_index(["guest_id"], index_name="match_log_guest")
    db.table("match_log").create_index(["candidate"], index_name="match_log_candidate")
    db.table("review_queue").create(
        {
            "id": int,
            "created_at": str,
            "guest_id": str,  # the guest the record was linked to meanwhile
            "candidate": str,  # the guest it may be
            "record_ref": str,
            "candidate_ref": str,
            "score": float,
            "fields": str,
            "status": str,  # open | accepted | rejected
            "decided_at": str,
        },
        pk="id",
        not_null={"guest_id", "candidate", "status"},
        defaults={"status": "open"},
    )
    db.table("review_queue").create_index(
        ["guest_id", "candidate"], unique=True, index_name="review_pair"
    )
    db.table("review_queue").create_index(["status", "id"], index_name="review_status")
    db.table("merges").create(
        {
            "id": int,
            "at": str,
            "keep": str,
            "lose": str,
            "reason": str,  # auto | manual | review
            "links": str,  # JSON list of "source\x1fstream\x1fexternal_id" moved keep<-lose
            "undone_at": str,
        },
        pk="id",
    )
    db.table("merges").create_index(["keep"], index_name="merges_keep")
    db.table("merges").create_index(["lose"], index_name="merges_lose")
    db.table("kept_apart").create(
        {"a": str, "b": str, "reason": str, "at": str},
        pk=("a", "b"),  # a < b; set by an unmerge or a rejected review
    )
