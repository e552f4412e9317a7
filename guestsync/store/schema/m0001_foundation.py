"""0001: the tables of the foundation slice (DESIGN.md, Store)."""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0001_foundation")
def m0001(db: Database) -> None:
    db.table("inbox").create(
        {
            "id": int,
            "source": str,
            "stream": str,
            "external_id": str,
            "content_hash": str,
            "raw": str,
            "origin": str,  # where it came from: "file.csv:12", "webhook", "pull"
            "received_at": str,
            "status": str,  # pending | done | error
            "error": str,
            "processed_at": str,
        },
        pk="id",
        not_null={"source", "stream", "external_id", "content_hash", "raw", "status"},
        defaults={"status": "pending"},
    )
    db.table("inbox").create_index(
        ["source", "stream", "external_id", "content_hash"], unique=True, index_name="inbox_key"
    )
    db.table("inbox").create_index(["status", "id"], index_name="inbox_status")

    db.table("cursors").create(
        {"source": str, "stream": str, "value": str, "updated_at": str},
        pk=("source", "stream"),
    )
    db.table("guests").create(
        {
            "id": str,
            "data": str,  # the golden Guest as JSON
            "display_name": str,
            "email": str,
            "phone": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
    )
    db.table("guest_links").create(
        {
            "source": str,
            "stream": str,
            "external_id": str,
            "guest_id": str,
            "record": str,  # the guest as this source record described them, JSON
            "seen_at": str,
        },
        pk=("source", "stream", "external_id"),
        foreign_keys=[("guest_id", "guests", "id")],
    )
    db.table("guest_links").create_index(["guest_id"], index_name="guest_links_guest")
    db.table("guest_keys").create(
        {"guest_id": str, "kind": str, "value": str},
        pk=("kind", "value", "guest_id"),
        foreign_keys=[("guest_id", "guests", "id")],
    )
    db.table("guest_keys").create_index(["guest_id"], index_name="guest_keys_guest")
    db.table("reservations").create(
        {
            "source": str,
            "external_id": str,
            "guest_id": str,
            "venue": str,
            "start_at": str,
            "party_size": int,
            "status": str,
            "channel": str,
            "requests": str,
            "updated_at": str,
        },
        pk=("source", "external_id"),
        foreign_keys=[("guest_id", "guests", "id")],
    )
    db.table("reservations").create_index(["guest_id"], index_name="reservations_guest")
    db.table("outbox").create(
        {
            "id": int,
            "target": str,
            "guest_id": str,
            "payload": str,
            "payload_hash": str,
            "status": str,  # pending | done | dead
            "attempts": int,
            "last_error": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"target", "guest_id", "payload", "payload_hash", "status"},
        defaults={"attempts": 0},
    )
    db.table("outbox").create_index(["target", "guest_id"], unique=True, index_name="outbox_key")
    db.table("outbox").create_index(["target", "status", "id"], index_name="outbox_status")
    db.table("crm_links").create(
        {
            "target": str,
            "guest_id": str,
            "crm_id": str,
            "payload_hash": str,  # hash of what the CRM last accepted
            "delivered_at": str,
        },
        pk=("target", "guest_id"),
    )
    db.table("dead_letters").create(
        {
            "id": int,
            "target": str,
            "guest_id": str,
            "payload": str,
            "error": str,
            "attempts": int,
            "created_at": str,
        },
        pk="id",
    )
    db.table("dead_letters").create_index(["target"], index_name="dead_letters_target")
    db.table("runs").create(
        {
            "id": int,
            "kind": str,
            "started_at": str,
            "finished_at": str,
            "status": str,  # running | ok | partial | failed
            "stats": str,
        },
        pk="id",
    )
