"""Delivery bookkeeping beyond the outbox: overview, dead-letter replay, what each CRM last
accepted, merges and deletes to carry out per target, and the shared rate budgets."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .base import StoreBase, ts


@dataclass(frozen=True)
class QueueDepth:
    target: str
    pending: int
    oldest_pending: str | None  # pending since (ISO, UTC)
    max_attempts: int
    done: int
    dead: int


@dataclass(frozen=True)
class DeadLetterDetail:
    id: int
    target: str
    guest_id: str
    payload: dict[str, Any]
    error: str
    attempts: int
    created_at: str
    retried_at: str | None


@dataclass(frozen=True)
class CrmOp:
    id: int
    target: str
    kind: str  # merge | delete
    guest_id: str  # the loser (merge) or the forgotten guest (delete)
    crm_id: str | None
    keep_guest_id: str | None
    attempts: int


class DeliveryOps(StoreBase):
    # -- overview ------------------------------------------------------------------------

    def outbox_overview(self) -> list[QueueDepth]:
        rows = self.conn.execute(
            "SELECT target, sum(status = 'pending'),"
            " min(CASE WHEN status = 'pending' THEN coalesce(pending_since, created_at) END),"
            " max(CASE WHEN status = 'pending' THEN attempts ELSE 0 END),"
            " sum(status = 'done'), sum(status = 'dead') FROM outbox GROUP BY target"
            " ORDER BY target"
        ).fetchall()
        return [QueueDepth(r[0], r[1] or 0, r[2], r[3] or 0, r[4] or 0, r[5] or 0) for r in rows]

    # -- dead letters --------------------------------------------------------------------

    def dead_letter_details(
        self, *, target: str | None = None, include_retried: bool = False
    ) -> list[DeadLetterDetail]:
        rows = self.conn.execute(
            "SELECT id, target, guest_id, payload, error, attempts, created_at, retried_at"
            " FROM dead_letters WHERE (? IS NULL OR target = ?)"
            " AND (? = 1 OR retried_at IS NULL) ORDER BY id",
            (target, target, include_retried),
        ).fetchall()
        return [DeadLetterDetail(r[0], r[1], r[2], json.loads(r[3]), *r[4:]) for r in rows]

    def dead_letter_detail(self, dead_letter_id: int) -> DeadLetterDetail | None:
        row = self.conn.execute(
            "SELECT id, target, guest_id, payload, error, attempts, created_at, retried_at"
            " FROM dead_letters WHERE id = ?",
            (dead_letter_id,),
        ).fetchone()
        return (
            DeadLetterDetail(row[0], row[1], row[2], json.loads(row[3]), *row[4:]) if row else None
        )

    def mark_dead_letter_retried(self, dead_letter_id: int) -> None:
        self.conn.execute(
            "UPDATE dead_letters SET retried_at = ? WHERE id = ?", (ts(), dead_letter_id)
        )

    # -- overdue records -----------------------------------------------------------------

    def overdue_outbox(
        self, target: str, *, max_attempts: int, pending_before: str
    ) -> list[tuple[int, str, str, dict[str, Any], str, int, str | None, str]]:
        """Pending rows that used up their attempts or waited too long (to dead-letter)."""
        return [
            (r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6], r[7])
            for r in self.conn.execute(
                "SELECT id, target, guest_id, payload, payload_hash, attempts, last_error,"
                " coalesce(pending_since, created_at) FROM outbox WHERE target = ? AND"
                " status = 'pending' AND (attempts >= ? OR"
                " coalesce(pending_since, created_at) < ?) ORDER BY id",
                (target, max_attempts, pending_before),
            ).fetchall()
        ]

    # -- what the CRM has ----------------------------------------------------------------

    def crm_link_payloads(self, target: str, guest_ids: list[str]) -> dict[str, tuple[str, dict]]:
        """guest id -> (CRM id, payload last accepted) for the guests the CRM has."""
        out: dict[str, tuple[str, dict]] = {}
        for i in range(0, len(guest_ids), 500):
            chunk = guest_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for gid, crm_id, payload in self.conn.execute(
                f"SELECT guest_id, crm_id, payload FROM crm_links WHERE target = ?"
                f" AND guest_id IN ({marks})",
                (target, *chunk),
            ):
                out[gid] = (crm_id, json.loads(payload) if payload else {})
        return out

    def drop_crm_link(self, target: str, guest_id: str) -> None:
        self.conn.execute(
            "DELETE FROM crm_links WHERE target = ? AND guest_id = ?", (target, guest_id)
        )

    def cancel_outbox(self, guest_id: str, *, status: str, target: str | None = None) -> None:
        """Close a guest's pending rows without sending them (merged away, forgotten)."""
        self.conn.execute(
            "UPDATE outbox SET status = ?, updated_at = ? WHERE guest_id = ? AND"
            " status = 'pending' AND (? IS NULL OR target = ?)",
            (status, ts(), guest_id, target, target),
        )

    # -- merges and deletes --------------------------------------------------------------

    def record_guest_merge(self, keep_guest_id: str, lose_guest_id: str) -> int:
        """Identity folded `lose` into `keep`: every target merges the two CRM records.

        The loser's queued pushes are cancelled (the keeper carries its data now).
        """
        merge_id = self._insert_id(
            "INSERT INTO guest_merges (keep_guest_id, lose_guest_id, merged_at) VALUES (?, ?, ?)"
            " RETURNING id",
            (keep_guest_id, lose_guest_id, ts()),
        )
        self.cancel_outbox(lose_guest_id, status="merged")
        return merge_id

    def queue_merges(self, target: str) -> int:
        """One merge op for `target` per recorded guest merge it has not got yet."""
        now_ts = ts()
        cur = self.conn.execute(
            "INSERT INTO crm_ops (target, kind, guest_id, keep_guest_id, merge_id,"
            " status, attempts, created_at, updated_at) SELECT ?, 'merge', m.lose_guest_id,"
            " m.keep_guest_id, m.id, 'pending', 0, ?, ? FROM guest_merges m WHERE m.undone_at"
            " IS NULL AND NOT EXISTS"
            " (SELECT 1 FROM crm_ops o WHERE o.merge_id = m.id AND o.target = ?)"
            " ON CONFLICT DO NOTHING",
            (target, now_ts, now_ts, target),
        )
        return cur.rowcount

    def planned_merges(self, target: str) -> list[tuple[str, str]]:
        """(keeper, loser) of merges not yet carried out on `target` (read-only)."""
        return self.conn.execute(
            "SELECT m.keep_guest_id, m.lose_guest_id FROM guest_merges m WHERE m.undone_at IS NULL"
            " AND NOT EXISTS"
            " (SELECT 1 FROM crm_ops o WHERE o.merge_id = m.id AND o.target = ?"
            " AND o.status != 'pending') ORDER BY m.id",
            (target,),
        ).fetchall()

    def queue_delete(self, target: str, guest_id: str, crm_id: str) -> None:
        now_ts = ts()
        self.conn.execute(
            "INSERT INTO crm_ops (target, kind, guest_id, crm_id, status, attempts,"
            " created_at, updated_at) VALUES (?, 'delete', ?, ?, 'pending', 0, ?, ?)",
            (target, guest_id, crm_id, now_ts, now_ts),
        )

    def pending_ops(self, target: str, *, kind: str | None = None) -> list[CrmOp]:
        rows = self.conn.execute(
            "SELECT id, target, kind, guest_id, crm_id, keep_guest_id, attempts FROM crm_ops"
            " WHERE target = ? AND status = 'pending' AND (? IS NULL OR kind = ?) ORDER BY id",
            (target, kind, kind),
        ).fetchall()
        return [CrmOp(*r) for r in rows]

    def op_outcomes(self, op_ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
        """{op id: (status, last error)} for the given ops."""
        marks = ", ".join("?" * len(op_ids))
        rows = self.conn.execute(
            f"SELECT id, status, last_error FROM crm_ops WHERE id IN ({marks})", list(op_ids)
        ).fetchall()
        return {oid: (status, error) for oid, status, error in rows}

    def finish_op(self, op_id: int, *, status: str = "done", error: str | None = None) -> None:
        self.conn.execute(
            "UPDATE crm_ops SET status = ?, last_error = ?, attempts = attempts + 1,"
            " updated_at = ? WHERE id = ?",
            (status, error, ts(), op_id),
        )

    def fail_op(self, op_id: int, error: str) -> None:
        self.conn.execute(
            "UPDATE crm_ops SET attempts = attempts + 1, last_error = ?, updated_at = ?"
            " WHERE id = ?",
            (error, ts(), op_id),
        )

    def apply_crm_merge(self, target: str, keep_guest_id: str, lose_guest_id: str, crm_id: str):
        """The CRM merged the loser's record into the keeper's, which is now `crm_id`."""
        self.conn.execute(
            "UPDATE crm_links SET crm_id = ? WHERE target = ? AND guest_id = ?",
            (crm_id, target, keep_guest_id),
        )
        self.drop_crm_link(target, lose_guest_id)

    # -- shared rate budget --------------------------------------------------------------

    def reserve_rate_token(self, account: str, *, rate: float, burst: float, now: float) -> float:
        """Take one token from `account`'s bucket; returns the seconds to wait before use.

        A reservation: the token is taken at once (the level may go below zero) and the
        caller waits until it is due, so concurrent processes queue fairly. Runs in its own
        IMMEDIATE transaction so that every process sees one bucket.
        """
        own = not self.conn.in_transaction
        if own:
            self.conn.execute("BEGIN IMMEDIATE")
        try:
            row = self.conn.execute(
                "SELECT tokens, updated FROM rate_budgets WHERE account = ?", (account,)
            ).fetchone()
            tokens, updated = (burst, now) if row is None else row
            tokens = min(burst, tokens + max(0.0, now - updated) * rate) - 1.0
            self.conn.execute(
                "INSERT INTO rate_budgets (account, tokens, updated) VALUES (?, ?, ?)"
                " ON CONFLICT (account) DO UPDATE SET tokens = excluded.tokens,"
                " updated = excluded.updated",
                (account, tokens, max(now, updated)),
            )
            if own:
                self.conn.execute("COMMIT")
        except BaseException:
            if own:
                self.conn.execute("ROLLBACK")
            raise
        return max(0.0, -tokens / rate)
