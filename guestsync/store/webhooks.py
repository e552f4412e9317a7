"""Webhook events (dedupe by event id), quarantine, id-only rows awaiting a fetch, and
record versions (an older update never overwrites a newer one)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..models import InboxEntry
from .base import StoreBase, chunks, ts, utcnow
from .identity import Ref
from .inbox import InboxRow

FETCH = "fetch"  # inbox status of an id-only webhook row: the worker fetches it first
_ROWS_PER_STATEMENT = 900  # bound parameters per statement (SQLite's old limit is 999)


def _inbox_row(e: InboxEntry, fetch: bool, now_ts: str) -> tuple:
    status = FETCH if fetch else "pending"
    return (e.source, e.stream, e.external_id, e.content_hash, e.raw, e.origin, now_ts, status)


@dataclass(frozen=True)
class Quarantined:
    id: int
    source: str
    received_at: str
    reason: str
    content_type: str
    headers: dict[str, str]
    body: bytes


class WebhookOps(StoreBase):
    def add_webhook_event(
        self,
        source: str,
        event_id: str,
        entries: Sequence[tuple[InboxEntry, bool]],
        *,
        now: datetime | None = None,
    ) -> bool:
        """Remember `event_id` and store its rows (each: entry, needs fetch) in one
        transaction. Returns False, storing nothing, if the event id was seen before."""
        return self.add_webhook_events([(source, event_id, entries)], now=now)[0]

    def add_webhook_events(
        self,
        events: Sequence[tuple[str, str, Sequence[tuple[InboxEntry, bool]]]],
        *,
        now: datetime | None = None,
    ) -> list[bool]:
        """Several webhook events (source, event id, rows) in ONE transaction (group
        commit); per event, True if new, False if its id was already known (or came
        earlier in the same batch). One statement per table for the whole batch: under
        `guestsync serve` every statement is a moment the writer waits for the GIL."""
        now_ts = ts(now)
        # shared (PostgreSQL): idempotent inserts that decide nothing from what they read
        # run beside the workers' windows, not after them (store/postgres.py)
        with self.atomic(shared=True):
            new_ids = self._remember_events(events, now_ts)
            fresh, rows = [], []
            for source, event_id, entries in events:
                new = (source, event_id) in new_ids
                new_ids.discard((source, event_id))  # a second copy in the batch is a duplicate
                fresh.append(new)
                if new:
                    rows += [_inbox_row(e, fetch, now_ts) for e, fetch in entries]
            for chunk in chunks(rows, _ROWS_PER_STATEMENT // 8):
                self.conn.execute(
                    "INSERT INTO inbox (source, stream, external_id, content_hash,"
                    " raw, origin, received_at, status) VALUES "
                    + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
                    + " ON CONFLICT DO NOTHING",
                    [v for row in chunk for v in row],
                )
            return fresh

    def _remember_events(
        self, events: Sequence[tuple[str, str, Sequence[Any]]], now_ts: str
    ) -> set[tuple[str, str]]:
        """Insert the event ids; those that were not known yet."""
        new_ids: set[tuple[str, str]] = set()
        values = [(s, e, now_ts, len(rows)) for s, e, rows in events]
        for chunk in chunks(values, _ROWS_PER_STATEMENT // 4):
            cur = self.conn.execute(
                "INSERT INTO webhook_events (source, event_id, received_at, rows)"
                " VALUES "
                + ", ".join(["(?, ?, ?, ?)"] * len(chunk))
                + " ON CONFLICT DO NOTHING RETURNING source, event_id",
                [v for row in chunk for v in row],
            )
            new_ids.update(cur.fetchall())
        return new_ids

    def forget_webhook_events(self, *, older_than: timedelta) -> int:
        """Drop event ids older than `older_than` (callers keep at least 7 days)."""
        cutoff = ts(utcnow() - max(older_than, timedelta(days=7)))
        cur = self.conn.execute("DELETE FROM webhook_events WHERE received_at < ?", (cutoff,))
        return cur.rowcount

    def quarantine(
        self,
        source: str,
        *,
        reason: str,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str],
    ) -> int:
        return self._insert_id(
            "INSERT INTO webhook_quarantine (source, received_at, reason, content_type,"
            " headers, body) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (source, ts(), reason, content_type, json.dumps(dict(headers)), body),
        )

    def quarantined(self, *, source: str | None = None, limit: int = 100) -> list[Quarantined]:
        rows = self.conn.execute(
            "SELECT id, source, received_at, reason, content_type, headers, body"
            " FROM webhook_quarantine WHERE (? IS NULL OR source = ?) ORDER BY id LIMIT ?",
            (source, source, limit),
        ).fetchall()
        return [
            Quarantined(id_, src, at, reason, ctype, json.loads(headers), bytes(body))
            for id_, src, at, reason, ctype, headers, body in rows
        ]

    # id-only rows

    def rows_to_fetch(self, *, limit: int = 100) -> list[InboxRow]:
        rows = self.conn.execute(
            "SELECT id, source, stream, external_id, raw, origin, received_at FROM inbox"
            " WHERE status = ? ORDER BY id LIMIT ?",
            (FETCH, limit),
        ).fetchall()
        return [
            InboxRow(r[0], r[1], r[2], r[3], r[4], r[5], datetime.fromisoformat(r[6]), FETCH)
            for r in rows
        ]

    def fetched(self, inbox_id: int, raw: str) -> None:
        """The full record arrived: the row is now an ordinary pending row."""
        self.conn.execute(
            "UPDATE inbox SET raw = ?, status = 'pending' WHERE id = ? AND status = ?",
            (raw, inbox_id, FETCH),
        )

    def replay_inbox_errors(self, *, source: str | None = None) -> int:
        """Rows marked `error` go back to pending (after a mapping fix); the same as
        `guestsync replay --errors` (store/replay.py: failed fetches are fetched again)."""
        return self.requeue_inbox_errors(source=source)  # type: ignore[attr-defined]

    # record versions

    def claim_version(self, source: str, stream: str, external_id: str, version: str) -> bool:
        """True if `version` is not older than the newest seen for this record (and
        remember it); False if a newer state was already processed."""
        seen = self._one(
            "SELECT version FROM record_versions WHERE source = ? AND stream = ? AND"
            " external_id = ?",
            (source, stream, external_id),
        )
        if seen is not None and seen > version:
            return False
        self.conn.execute(
            "INSERT INTO record_versions (source, stream, external_id, version, seen_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (source, stream, external_id) DO UPDATE"
            " SET version = excluded.version, seen_at = excluded.seen_at",
            (source, stream, external_id, version, ts()),
        )
        return True

    def record_versions(self, refs: Iterable[Ref]) -> dict[Ref, str]:
        """{(source, stream, external id): newest version seen} of those of these records
        that have one: what `claim_version` compares with, read for a window at once."""
        return dict(self._rows_of_records("record_versions", "version", refs))

    def save_record_versions(self, versions: Mapping[Ref, str]) -> None:
        """What `claim_version` remembers, for many records; a newer version stored
        meanwhile (another worker) is kept."""
        now_ts = ts()
        self.conn.executemany(
            "INSERT INTO record_versions (source, stream, external_id, version, seen_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (source, stream, external_id) DO UPDATE"
            " SET version = excluded.version, seen_at = excluded.seen_at"
            " WHERE record_versions.version <= excluded.version",
            sorted((*ref, version, now_ts) for ref, version in versions.items()),
        )
