"""Inbox (raw records as received) and cursors (where each pull stream got to).

Several workers sharing one PostgreSQL store take disjoint windows of the backlog with
`claim_inbox`. A claim is a column with an expiry (m0032), not only a row lock held by the
processing transaction (`SELECT ... FOR UPDATE SKIP LOCKED` alone): the process stage reads
and maps a window before the transaction that writes its guests opens (process_pending's
look-ahead and mapping pool), so the claim has to outlive the statement that takes it. SKIP
LOCKED is still how it is taken, so two claimers never wait for each other nor take the
same row. A worker killed with its window claimed leaves rows that are pending with an
expired claim `CLAIM_TTL` later, and the next claimer takes them over (at once when it ran
on this host: `release_dead_claims`); one whose claim expires while it works (a batch
slower than the TTL) may see its rows taken, and `pending_of`, read inside the processing
transaction, is what makes each row processed once: whoever commits first marks it done,
the other drops it. On SQLite one writer processes the inbox: no claims, today's reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from ..models import InboxEntry
from .base import StoreBase, chunks, marks, ts, utcnow
from .claimants import dead_here, process_of
from .nodes import SILENT_AFTER

CLAIM_TTL = timedelta(minutes=5)  # a window is processed within seconds; see above
_ROW = "id, source, stream, external_id, raw, origin, received_at"


class InboxRow(NamedTuple):
    """(A named tuple: one per inbox row a window claims; a frozen dataclass's
    __init__ costs four times as much, #20.)"""

    id: int
    source: str
    stream: str
    external_id: str
    raw: str
    origin: str
    received_at: datetime
    status: str = "pending"
    error: str | None = None


class InboxOps(StoreBase):
    def add_to_inbox(self, entries: Iterable[InboxEntry], *, now: datetime | None = None) -> int:
        """Insert raw records; one already there (same source, stream, id, hash) is skipped.

        Returns how many were new.
        """
        now_ts = ts(now)
        cur = self.conn.executemany(
            "INSERT INTO inbox (source, stream, external_id, content_hash, raw,"
            " origin, received_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')"
            " ON CONFLICT DO NOTHING",
            [
                (e.source, e.stream, e.external_id, e.content_hash, e.raw, e.origin, now_ts)
                for e in entries
            ],
        )
        return cur.rowcount

    def pending_inbox(self, *, limit: int, after_id: int = 0) -> list[InboxRow]:
        rows = self.conn.execute(
            f"SELECT {_ROW} FROM inbox WHERE status = 'pending' AND id > ? ORDER BY id LIMIT ?",
            (after_id, limit),
        ).fetchall()
        return [
            InboxRow(r[0], r[1], r[2], r[3], r[4], r[5], datetime.fromisoformat(r[6])) for r in rows
        ]

    def claim_inbox(
        self, *, limit: int, owner: str, after_id: int = 0, ttl: timedelta = CLAIM_TTL
    ) -> list[InboxRow]:
        """Up to `limit` pending rows after `after_id` that no other worker has claimed
        (or whose claim expired), claimed for `owner` until `ttl` from now; in id order.
        On SQLite: `pending_inbox` (one writer, nothing to share)."""
        if self.dialect != "postgresql":
            return self.pending_inbox(limit=limit, after_id=after_id)
        now = utcnow()
        rows = self.conn.execute(
            "UPDATE inbox SET claimed_by = ?, claimed_until = ? WHERE id IN (SELECT id"
            " FROM inbox WHERE status = 'pending' AND id > ? AND (claimed_until IS NULL"
            " OR claimed_until <= ?) ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)"
            f" RETURNING {_ROW}",
            (owner, ts(now + ttl), after_id, ts(now), limit),
        ).fetchall()
        rows.sort(key=lambda r: r[0])  # RETURNING's order is the update's, not the id's
        return [
            InboxRow(r[0], r[1], r[2], r[3], r[4], r[5], datetime.fromisoformat(r[6])) for r in rows
        ]

    def release_inbox_claims(self, owner: str) -> int:
        """Give back `owner`'s claims on rows it left pending (a run that stopped early),
        so that other workers need not wait for them to expire; how many."""
        if self.dialect != "postgresql":
            return 0
        return self.conn.execute(
            "UPDATE inbox SET claimed_by = NULL, claimed_until = NULL"
            " WHERE claimed_by = ? AND status = 'pending'",
            (owner,),
        ).rowcount

    def release_dead_claims(self) -> int:
        """Give back the claims of claimants whose process is gone, rather than leave
        their rows waiting CLAIM_TTL; how many rows. Gone: a process of this host that no
        longer runs (killed with -9), or the process of a `serve` node on another host
        whose heartbeat went silent (its machine down). Should a silent node still be
        at work after all, `pending_of` keeps each row processed once."""
        if self.dialect != "postgresql":
            return 0
        now = utcnow()
        holders = self.conn.execute(
            "SELECT DISTINCT claimed_by FROM inbox WHERE status = 'pending'"
            " AND claimed_by IS NOT NULL AND claimed_until > ?",
            (ts(now),),
        ).fetchall()
        silent = {
            (host, str(pid))
            for host, pid in self.conn.execute(
                "SELECT host, pid FROM nodes WHERE last_seen < ?", (ts(now - SILENT_AFTER),)
            )
        }
        return sum(
            self.release_inbox_claims(h)
            for (h,) in holders
            if dead_here(h) or process_of(h) in silent
        )

    def pending_of(self, ids: Sequence[int]) -> set[int]:
        """Those of these rows still pending. Inside the transaction that processes them:
        on PostgreSQL the rows are locked until it ends, so a worker that read the same
        rows waits, then finds them done (READ COMMITTED re-reads a locked row's status)."""
        lock = " FOR UPDATE" if self.dialect == "postgresql" else ""
        out: set[int] = set()
        for part in chunks(ids):
            out.update(
                r[0]
                for r in self.conn.execute(
                    f"SELECT id FROM inbox WHERE id IN ({marks(len(part))})"
                    f" AND status = 'pending' ORDER BY id{lock}",
                    part,
                )
            )
        return out

    def mark_inbox_done(self, ids: Sequence[int]) -> None:
        """500 rows per statement: half the CPU of one UPDATE per row."""
        now_ts = ts()
        for part in chunks(ids):
            self.conn.execute(
                "UPDATE inbox SET status = 'done', error = NULL, processed_at = ?"
                f" WHERE id IN ({marks(len(part))})",
                (now_ts, *part),
            )

    def mark_inbox_error(self, inbox_id: int, reason: str) -> None:
        self.conn.execute(
            "UPDATE inbox SET status = 'error', error = ?, processed_at = ? WHERE id = ?",
            (reason, ts(), inbox_id),
        )

    def inbox_errors(self, *, source: str | None = None, limit: int = 1000) -> list[InboxRow]:
        rows = self.conn.execute(
            "SELECT id, source, stream, external_id, raw, origin, received_at, status, error"
            " FROM inbox WHERE status = 'error' AND (? IS NULL OR source = ?)"
            " ORDER BY id LIMIT ?",
            (source, source, limit),
        ).fetchall()
        return [
            InboxRow(r[0], r[1], r[2], r[3], r[4], r[5], datetime.fromisoformat(r[6]), r[7], r[8])
            for r in rows
        ]

    def inbox_counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT status, count(*) FROM inbox GROUP BY status")
        return dict(rows.fetchall())

    # cursors

    def get_cursor(self, source: str, stream: str) -> str | None:
        return self._one(
            "SELECT value FROM cursors WHERE source = ? AND stream = ?", (source, stream)
        )

    def set_cursor(self, source: str, stream: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO cursors (source, stream, value, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (source, stream) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            (source, stream, value, ts()),
        )
