"""0008: orders, order items, feedback, per-guest aggregates, consent and privacy."""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0008_activity")
def m0008(db: Database) -> None:
    db.table("orders").create(
        {
            "source": str,
            "external_id": str,
            "guest_id": str,
            "venue": str,
            "placed_at": str,  # ISO 8601 with the source's offset
            "channel": str,  # dine_in | takeout | delivery
            "total": str,  # Decimal as text, never a float
            "currency": str,
            "reservation_id": str,  # external id of the booking this bill belongs to
            "updated_at": str,
        },
        pk=("source", "external_id"),
        foreign_keys=[("guest_id", "guests", "id")],
    )
    db.table("orders").create_index(["guest_id"], index_name="orders_guest")
    db.table("order_items").create(
        {
            "source": str,
            "external_id": str,  # the order's
            "line": int,
            "name": str,
            "quantity": str,
            "unit_price": str,
        },
        pk=("source", "external_id", "line"),
    )
    db.table("feedback").create(
        {
            "source": str,
            "external_id": str,
            "guest_id": str,
            "rating": str,
            "comment": str,
            "at": str,
            "venue": str,
            "updated_at": str,
        },
        pk=("source", "external_id"),
        foreign_keys=[("guest_id", "guests", "id")],
    )
    db.table("feedback").create_index(["guest_id"], index_name="feedback_guest")
    db.table("guest_aggregates").create(
        {
            "guest_id": str,
            "data": str,
            "segment": str,
            "computed_at": str,
            # The first day the values could change with no new record (segment thresholds,
            # a birthday entering or leaving the window): the daily refresh looks only here.
            "recheck_on": str,
            "stamp": str,  # fingerprint of the settings they were computed with
        },
        pk="guest_id",
        foreign_keys=[("guest_id", "guests", "id")],
    )
    db.table("guest_aggregates").create_index(["segment"], index_name="guest_aggregates_segment")
    db.table("guest_aggregates").create_index(["recheck_on"], index_name="guest_aggregates_recheck")
    # One row per explicit statement a source record made, per channel; the newest wins.
    db.table("consent_events").create(
        {
            "source": str,
            "stream": str,
            "external_id": str,
            "channel": str,  # email | sms
            "guest_id": str,
            "granted": int,
            "at": str,  # when the guest said it (or when the record was seen)
            "recorded_at": str,
        },
        pk=("source", "stream", "external_id", "channel"),
        foreign_keys=[("guest_id", "guests", "id")],
    )
    db.table("consent_events").create_index(["guest_id"], index_name="consent_events_guest")
    # Salted hashes of forgotten emails/phones: later records carrying them are suppressed.
    db.table("suppressions").create(
        {"hash": str, "kind": str, "created_at": str}, pk="hash", not_null={"kind"}
    )
    db.table("forget_log").create(
        {
            "id": int,
            "requested_at": str,
            "selector": str,  # "email:<hash>", "phone:<hash>" or "guest:<id>"; never plain PII
            "guests": int,
            "rows_deleted": int,
            "targets": str,  # JSON: target -> result
            "status": str,  # done | partial
        },
        pk="id",
    )
    db.table("meta").create({"key": str, "value": str}, pk="key")
