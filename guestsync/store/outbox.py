"""Outbox (what each target still needs), CRM links (what it has) and dead letters."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..hashing import canonical_json
from ..models import OutboxItem
from .base import StoreBase, ts


@dataclass(frozen=True)
class DeadLetter:
    id: int
    target: str
    guest_id: str
    error: str
    attempts: int
    created_at: str


class OutboxOps(StoreBase):
    def enqueue(
        self, target: str, guest_id: str, payload: dict[str, Any], payload_hash: str
    ) -> bool:
        """Queue `payload` for `target` unless the CRM already has it or it is queued.

        A pending row for the same guest is replaced (later changes coalesce into one
        push). Returns True if something new is now pending.
        """
        return self.enqueue_many(target, [(guest_id, payload, payload_hash)]) == 1

    def enqueue_many(
        self, target: str, items: Sequence[tuple[str, dict[str, Any] | str, str]]
    ) -> int:
        """`enqueue` for many guests of one target: (guest id, payload, payload hash), one
        per guest; a payload given as text is its canonical JSON (hashing.py), already
        spelled for the hash. Their delivered and queued hashes are read in a query per
        500 guests, compared here, and the rows to queue written with executemany.
        Returns how many are newly pending."""
        delivered: dict[str, str | None] = {}
        current: dict[str, tuple[str, str]] = {}
        ids = [gid for gid, _, _ in items]
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            delivered.update(
                self.conn.execute(
                    f"SELECT guest_id, payload_hash FROM crm_links WHERE target = ?"
                    f" AND guest_id IN ({marks})",
                    (target, *part),
                ).fetchall()
            )
            for gid, status, h in self.conn.execute(
                f"SELECT guest_id, status, payload_hash FROM outbox WHERE target = ?"
                f" AND guest_id IN ({marks})",
                (target, *part),
            ):
                current[gid] = (status, h)
        now_ts = ts()
        done, queue = [], []
        for gid, payload, payload_hash in items:
            was, cur = delivered.get(gid), current.get(gid)
            pending = cur is not None and cur[0] == "pending"
            if was == payload_hash and not pending:
                continue
            if pending and cur is not None and cur[1] == payload_hash:
                continue
            if was == payload_hash:
                # Back to what the CRM already has: nothing to send after all.
                done.append((now_ts, target, gid))
                continue
            body = payload if isinstance(payload, str) else canonical_json(payload)
            queue.append((target, gid, body, payload_hash, now_ts, now_ts, now_ts))
        self.conn.executemany(
            "UPDATE outbox SET status = 'done', updated_at = ? WHERE target = ? AND guest_id = ?",
            done,
        )
        self.conn.executemany(
            "INSERT INTO outbox (target, guest_id, payload, payload_hash, status, attempts,"
            " created_at, updated_at, pending_since) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)"
            " ON CONFLICT (target, guest_id) DO UPDATE SET payload = excluded.payload,"
            " payload_hash = excluded.payload_hash, attempts = 0, last_error = NULL,"
            " pending_since = CASE WHEN outbox.status = 'pending'"
            " THEN coalesce(outbox.pending_since, excluded.pending_since)"
            " ELSE excluded.pending_since END,"
            " status = 'pending', updated_at = excluded.updated_at",
            queue,
        )
        return len(queue)

    def pending_outbox(self, target: str, *, limit: int, after_id: int = 0) -> list[OutboxItem]:
        rows = self.conn.execute(
            "SELECT o.id, o.guest_id, o.payload, o.payload_hash, o.attempts, l.crm_id,"
            " coalesce(o.pending_since, o.created_at), o.last_error FROM outbox o"
            " LEFT JOIN crm_links l ON l.target = o.target AND l.guest_id = o.guest_id"
            " WHERE o.target = ? AND o.status = 'pending' AND o.id > ?"
            " ORDER BY o.id LIMIT ?",
            (target, after_id, limit),
        ).fetchall()
        return [
            OutboxItem(r[0], target, r[1], json.loads(r[2]), r[3], r[4], r[5], r[6], r[7])
            for r in rows
        ]

    def mark_delivered(self, item: OutboxItem, crm_id: str) -> None:
        """The CRM accepted `item`: remember its id and what it has now.

        The outbox row is closed only if it still holds what was sent; a newer payload
        queued meanwhile stays pending.
        """
        now_ts = ts()
        self.conn.execute(
            "INSERT INTO crm_links (target, guest_id, crm_id, payload_hash, delivered_at, payload)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (target, guest_id) DO UPDATE SET"
            " crm_id = excluded.crm_id, payload_hash = excluded.payload_hash,"
            " delivered_at = excluded.delivered_at, payload = excluded.payload",
            (
                item.target,
                item.guest_id,
                crm_id,
                item.payload_hash,
                now_ts,
                json.dumps(item.payload, ensure_ascii=False, sort_keys=True),
            ),
        )
        self.conn.execute(
            "UPDATE outbox SET status = 'done', last_error = NULL, updated_at = ?"
            " WHERE id = ? AND payload_hash = ?",
            (now_ts, item.id, item.payload_hash),
        )

    def mark_attempt_failed(self, items: Sequence[OutboxItem], error: str) -> None:
        self.conn.executemany(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, updated_at = ?"
            " WHERE id = ?",
            [(error, ts(), i.id) for i in items],
        )

    def dead_letter(self, item: OutboxItem, error: str) -> None:
        now_ts = ts()
        self.conn.execute(
            "INSERT INTO dead_letters (target, guest_id, payload, error, attempts, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                item.target,
                item.guest_id,
                json.dumps(item.payload, ensure_ascii=False),
                error,
                item.attempts + 1,
                now_ts,
            ),
        )
        self.conn.execute(
            "UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = ?,"
            " updated_at = ? WHERE id = ? AND payload_hash = ?",
            (error, now_ts, item.id, item.payload_hash),
        )

    def dead_letters(self, *, target: str | None = None) -> list[DeadLetter]:
        rows = self.conn.execute(
            "SELECT id, target, guest_id, error, attempts, created_at FROM dead_letters"
            " WHERE (? IS NULL OR target = ?) ORDER BY id",
            (target, target),
        ).fetchall()
        return [DeadLetter(*r) for r in rows]

    def outbox_counts(self, target: str) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT status, count(*) FROM outbox WHERE target = ? GROUP BY status", (target,)
        )
        return dict(rows.fetchall())

    def crm_id(self, target: str, guest_id: str) -> str | None:
        return self._one(
            "SELECT crm_id FROM crm_links WHERE target = ? AND guest_id = ?", (target, guest_id)
        )

    def count_crm_links(self, target: str) -> int:
        return self._one("SELECT count(*) FROM crm_links WHERE target = ?", (target,))
