"""0026: membership programmes: points movements, stated balances, memberships (tiers),
coupons, per-guest loyalty aggregates and dated tier changes.

Each row came with one source record (source, stream, external id) and follows that
record's guest, as bookings and bills do: a merge carries it, an unmerge gives it back.
A points movement is keyed by (programme, movement id): the same movement sent twice,
by a webhook retry or a re-exported CSV, is one row. Times are stored in UTC
(`store.ts`), so they sort and compare as text.
"""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations

_RECORD = {"source": str, "stream": str, "external_id": str, "guest_id": str}


@migrations(name="0026_loyalty")
def m0026_loyalty(db: Database) -> None:
    db.table("points_movements").create(
        {
            "programme": str,
            "movement_id": str,  # the record's external id: the source's id, else a hash
            **_RECORD,
            "member": str,
            "kind": str,  # earn | redeem | expire | adjust
            "delta": str,  # signed Decimal as text: what the movement does to the balance
            "balance_after": str,
            "at": str,
            "order_ref": str,
        },
        pk=("programme", "movement_id"),
        foreign_keys=[("guest_id", "guests", "id")],
    )
    db.table("point_balances").create(
        {**_RECORD, "programme": str, "member": str, "balance": str, "as_of": str},
        pk=("source", "stream", "external_id"),
        foreign_keys=[("guest_id", "guests", "id")],
    )
    db.table("memberships").create(
        {
            **_RECORD,
            "programme": str,
            "member": str,
            "tier": str,
            "since": str,
            "until": str,
            "seen_at": str,
        },
        pk=("source", "stream", "external_id"),
        foreign_keys=[("guest_id", "guests", "id")],
    )
    db.table("coupons").create(
        {
            **_RECORD,
            "programme": str,
            "member": str,
            "code": str,
            "campaign": str,
            "issued_at": str,
            "redeemed_at": str,
            "expires_at": str,
            "expired": int,
            "value": str,
            "order_ref": str,
        },
        pk=("source", "stream", "external_id"),
        foreign_keys=[("guest_id", "guests", "id")],
    )
    for table in ("points_movements", "point_balances", "memberships", "coupons"):
        db.table(table).create_index(["guest_id"], index_name=f"{table}_guest")
    db.table("points_movements").create_index(
        ["source", "stream", "external_id"], index_name="points_movements_record"
    )
    db.table("loyalty_aggregates").create(
        {
            "guest_id": str,
            "data": str,
            "tier": str,
            "tier_since": str,
            "member": int,
            "stamp": str,
            "computed_at": str,
        },
        pk="guest_id",
        foreign_keys=[("guest_id", "guests", "id")],
    )
    db.table("loyalty_aggregates").create_index(["tier"], index_name="loyalty_aggregates_tier")
    db.table("tier_events").create(
        {
            "id": int,
            "guest_id": str,
            "at": str,
            "from_tier": str,
            "to_tier": str,
            "direction": str,  # upgrade | downgrade | change
            "basis": str,  # rule | source
        },
        pk="id",
        foreign_keys=[("guest_id", "guests", "id")],
    )
    db.table("tier_events").create_index(["guest_id", "at"], index_name="tier_events_guest")
    db.table("tier_events").create_index(["at"], index_name="tier_events_at")
