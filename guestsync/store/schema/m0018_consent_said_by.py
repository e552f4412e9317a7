"""0018: a consent statement's own source (`Consent.source`, e.g. "web form") goes in
`said_by`; `source` is always the source of the record that made it, so a statement
follows its record when identity merges or unmerges move it.

Also the segment a guest had before the current one, and since when the current one holds
(`guests show`: "regular since 2026-03-20, was new")."""

from __future__ import annotations

from sqlite_utils import Database

from . import migrations


@migrations(name="0018_consent_said_by")
def m0018(db: Database) -> None:
    db.table("consent_events").add_column("said_by", str)
    db.table("guest_aggregates").add_column("previous_segment", str)
    db.table("guest_aggregates").add_column("segment_since", str)
