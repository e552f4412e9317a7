"""0007: webhook event ids (dedupe), quarantined bodies, and per-record versions
(out-of-order protection in the process stage)."""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0007_webhooks")
def m0007(db: Database) -> None:
    # One row per webhook event id received; kept at least 7 days (longer than any
    # sender's retry window: Square 24-72 h, Toast 10 min, inline 60 s).
    db.table("webhook_events").create(
        {"source": str, "event_id": str, "received_at": str, "rows": int},
        pk=("source", "event_id"),
    )
    db.table("webhook_events").create_index(["received_at"], index_name="webhook_events_received")
    # Verified bodies that are not JSON (or not the shape the platform documents):
    # kept as received, for inspection and replay.
    db.table("webhook_quarantine").create(
        {
            "id": int,
            "source": str,
            "received_at": str,
            "reason": str,
            "content_type": str,
            "headers": str,
            "body": bytes,
        },
        pk="id",
    )
    # The newest version (updated_at or version, as a sortable key) seen per record.
    db.table("record_versions").create(
        {"source": str, "stream": str, "external_id": str, "version": str, "seen_at": str},
        pk=("source", "stream", "external_id"),
    )
