"""0005: delivery: what each CRM last accepted, merges and deletes to carry out,
the shared rate budgets, and dead-letter replay bookkeeping."""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0005_delivery")
def m0005(db: Database) -> None:
    # The payload the CRM last accepted, so that `sync --dry-run` can diff against it.
    db.table("crm_links").add_column("payload", str)
    # When the row last became pending (created_at stays from the first enqueue ever):
    # the per-target maximum age counts from here.
    db.table("outbox").add_column("pending_since", str)
    db.table("dead_letters").add_column("retried_at", str)

    # Guest merges decided by identity resolution: the loser was folded into the keeper.
    # Identity records them with `record_guest_merge`; delivery carries each one
    # out once per target (`crm_ops`).
    db.table("guest_merges").create(
        {"id": int, "keep_guest_id": str, "lose_guest_id": str, "merged_at": str},
        pk="id",
        not_null={"keep_guest_id", "lose_guest_id"},
    )
    # Per-target CRM operations other than upserts: merge (loser into keeper) and delete
    # (a forgotten guest). The CRM ids are copied in, so that forgetting a guest locally
    # does not lose what must be deleted remotely.
    db.table("crm_ops").create(
        {
            "id": int,
            "target": str,
            "kind": str,  # merge | delete
            "guest_id": str,  # the loser (merge) or the forgotten guest (delete)
            "crm_id": str,
            "keep_guest_id": str,  # merge only
            "merge_id": int,  # merge only: guest_merges.id
            "status": str,  # pending | done | dead
            "attempts": int,
            "last_error": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"target", "kind", "guest_id", "status"},
        defaults={"attempts": 0, "status": "pending"},
    )
    db.table("crm_ops").create_index(["target", "status", "id"], index_name="crm_ops_status")
    db.table("crm_ops").create_index(
        ["merge_id", "target"], unique=True, index_name="crm_ops_merge"
    )

    # One token bucket per CRM account, shared by every process writing to it.
    db.table("rate_budgets").create(
        {"account": str, "tokens": float, "updated": float}, pk="account", not_null={"tokens"}
    )
