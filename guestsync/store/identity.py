"""Identity resolution's tables: links with features, the match log, the review queue and
merges (candidates.py looks candidates up)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from ..models import Guest
from .base import StoreBase, marks, ts
from .keyhash import key_hash
from .loyalty import LOYALTY_TABLES

Ref = tuple[str, str, str]  # (source, stream, external_id)


@dataclass(frozen=True)
class LinkRow:
    ref: Ref
    guest_id: str
    seen_at: datetime
    record: Guest
    features: dict[str, Any] | None
    pinned: bool


@dataclass(frozen=True)
class ReviewItem:
    id: int
    created_at: str
    guest_id: str
    candidate: str
    record_ref: str
    candidate_ref: str
    score: float
    fields: dict[str, Any]
    status: str


@dataclass(frozen=True)
class MergeRow:
    id: int
    at: str
    keep: str
    lose: str
    reason: str
    links: list[Ref]
    undone_at: str | None


def _review_item(r: Sequence[Any]) -> ReviewItem:
    """A review_queue row, its columns in the dataclass's order; fields as JSON."""
    return ReviewItem(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7] or "{}"), r[8])


def _merge_row(r: Sequence[Any]) -> MergeRow:
    """A merges row, its columns in the dataclass's order; links as JSON."""
    return MergeRow(r[0], r[1], r[2], r[3], r[4], [tuple(x) for x in json.loads(r[5])], r[6])


class IdentityOps(StoreBase):
    # -- links and guests ------------------------------------------------------------

    def guest_state(self, guest_id: str) -> tuple[bool, str | None]:
        """(exists, merged_into) in one look-up."""
        r = self.conn.execute("SELECT merged_into FROM guests WHERE id = ?", (guest_id,)).fetchone()
        return (r is not None, r[0] if r else None)

    def find_links(self, source: str, external_id: str) -> list[Ref]:
        rows = self.conn.execute(
            "SELECT source, stream, external_id FROM guest_links WHERE source = ? AND"
            " external_id = ? ORDER BY stream",
            (source, external_id),
        ).fetchall()
        return [tuple(r) for r in rows]  # type: ignore[misc]

    def save_link(
        self,
        ref: Ref,
        *,
        guest_id: str,
        record_json: str,
        features_json: str,
        seen_at: datetime,
    ) -> None:
        """`record_json`: the guest as the record describes it; `features_json`: its folded
        features (both as prepare.py serializes them)."""
        self.conn.execute(
            "INSERT INTO guest_links (source, stream, external_id, guest_id, record, seen_at,"
            " features) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, stream, external_id)"
            " DO UPDATE SET guest_id = excluded.guest_id, record = excluded.record,"
            " seen_at = excluded.seen_at, features = excluded.features",
            (
                *ref,
                guest_id,
                record_json,
                ts(seen_at),
                features_json,
            ),
        )

    def move_links(self, refs: Iterable[Ref], guest_id: str, *, pin: bool = False) -> None:
        self.conn.executemany(
            "UPDATE guest_links SET guest_id = ?, pinned = max(pinned, ?) WHERE source = ? AND"
            " stream = ? AND external_id = ?",
            [(guest_id, int(pin), *r) for r in refs],
        )

    def set_merged_into(self, guest_id: str, into: str | None) -> None:
        self.conn.execute("UPDATE guests SET merged_into = ? WHERE id = ?", (into, guest_id))

    def merged_into(self, guest_id: str) -> str | None:
        return self._one("SELECT merged_into FROM guests WHERE id = ?", (guest_id,))

    def guest_exists(self, guest_id: str) -> bool:
        return self._one("SELECT 1 FROM guests WHERE id = ?", (guest_id,)) is not None

    def search_guests(
        self, text: str, *, keys: Sequence[tuple[str, str]] = (), limit: int = 20
    ) -> list[Guest]:
        """Live guests having one of `keys`, or whose name, email or phone has `text`."""
        like = f"%{text}%"
        hashes = sorted({key_hash(k, v) for k, v in keys})
        rows = self.conn.execute(
            "SELECT data FROM guests WHERE merged_into IS NULL AND (id IN (SELECT guest_id"
            f" FROM guest_keys WHERE key IN ({','.join('?' * len(hashes))}))"
            " OR display_name LIKE ? OR email LIKE ? OR phone LIKE ?)"
            " ORDER BY created_at, id LIMIT ?",
            [*hashes, like, like, like, limit],
        ).fetchall()
        return [Guest.model_validate_json(r[0]) for r in rows]

    # -- match log -------------------------------------------------------------------

    def log_matches(self, rows: Sequence[dict[str, Any]]) -> None:
        """Rows: ref, guest_id, candidate, candidate_ref, score, fields (or JSON), outcome."""
        now, dumps = ts(), partial(json.dumps, ensure_ascii=False)
        self.conn.executemany(
            "INSERT INTO match_log (at, source, stream, external_id, guest_id, candidate,"
            " candidate_ref, score, fields, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    now,
                    *(r.get("ref") or (None, None, None)),
                    r["guest_id"],
                    r.get("candidate"),
                    r.get("candidate_ref"),
                    r.get("score"),
                    f if isinstance(f := r.get("fields"), str) else dumps(f) if f else "{}",
                    r["outcome"],
                )
                for r in rows
            ],
        )

    def match_log_for(self, guest_id: str, *, limit: int = 200) -> list[dict[str, Any]]:
        cols = "id, at, source, stream, external_id, guest_id, candidate, candidate_ref,"
        cols += " score, fields, outcome"
        # One query per index: the decisions about the records linked to the guest now
        # (by record, m0022), those with no record (manual merges, rejected reviews) and
        # those that compared another record with this guest (m0021). UNION, not UNION
        # ALL: a record merged in from another guest may have been compared with this one.
        rows = self.conn.execute(
            f"SELECT {cols} FROM match_log WHERE (source, stream, external_id) IN"
            " (SELECT source, stream, external_id FROM guest_links WHERE guest_id = ?)"
            f" UNION SELECT {cols} FROM match_log WHERE source IS NULL AND guest_id = ?"
            f" UNION SELECT {cols} FROM match_log WHERE candidate = ? AND candidate != guest_id"
            " ORDER BY id LIMIT ?",
            (guest_id, guest_id, guest_id, limit),
        ).fetchall()
        keys: tuple[str, ...] = ("id", "at", "source", "stream", "external_id", "guest_id")
        keys += ("candidate", "candidate_ref", "score", "fields", "outcome")
        out = [dict(zip(keys, r, strict=True)) for r in rows]
        for d in out:
            d["fields"] = json.loads(d["fields"] or "{}")
        return out

    def match_field_levels(self, *, limit: int = 200_000) -> list[dict[str, Any]]:
        """Field scores of logged comparisons (for estimating weights)."""
        rows = self.conn.execute(
            "SELECT fields FROM match_log WHERE candidate IS NOT NULL AND outcome IN"
            " ('merge', 'review', 'new') ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [json.loads(r[0]) for r in rows]

    # -- review queue ----------------------------------------------------------------

    def add_review(
        self,
        *,
        guest_id: str,
        candidate: str,
        record_ref: str,
        candidate_ref: str,
        score: float,
        fields: dict[str, Any],
    ) -> None:
        self.conn.execute(
            "INSERT INTO review_queue (created_at, guest_id, candidate, record_ref,"
            " candidate_ref, score, fields, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'open')"
            " ON CONFLICT DO NOTHING",
            (ts(), guest_id, candidate, record_ref, candidate_ref, score, json.dumps(fields)),
        )

    def reviews(self, *, status: str | None = "open", limit: int = 100) -> list[ReviewItem]:
        rows = self.conn.execute(
            "SELECT id, created_at, guest_id, candidate, record_ref, candidate_ref, score,"
            " fields, status FROM review_queue WHERE (? IS NULL OR status = ?) ORDER BY id"
            " LIMIT ?",
            (status, status, limit),
        ).fetchall()
        return [_review_item(r) for r in rows]

    def review(self, review_id: int) -> ReviewItem | None:
        r = self.conn.execute(
            "SELECT id, created_at, guest_id, candidate, record_ref, candidate_ref, score,"
            " fields, status FROM review_queue WHERE id = ?",
            (review_id,),
        ).fetchone()
        return _review_item(r) if r else None

    def decide_review(self, review_id: int, status: str) -> None:
        self.conn.execute(
            "UPDATE review_queue SET status = ?, decided_at = ? WHERE id = ?",
            (status, ts(), review_id),
        )

    def close_reviews_within(self, guest_ids: Sequence[str]) -> int:
        """Open review items whose two guests are both among `guest_ids` (one person now):
        closed as `merged`. Found by the pair index (with `status` beside it SQLite chose
        to read every open item, per merge)."""
        ids = marks(len(guest_ids))
        pairs = f"SELECT id FROM review_queue WHERE guest_id IN ({ids}) AND candidate IN ({ids})"
        sql = f"UPDATE review_queue SET status = 'merged', decided_at = ? WHERE id IN ({pairs})"
        cur = self.conn.execute(sql + " AND status = 'open'", [ts(), *guest_ids, *guest_ids])
        return cur.rowcount

    def count_reviews(self, status: str = "open") -> int:
        return self._one("SELECT count(*) FROM review_queue WHERE status = ?", (status,))

    # -- merges ----------------------------------------------------------------------

    def record_merge(self, *, keep: str, lose: str, reason: str, links: Sequence[Ref]) -> int:
        return self._insert_id(
            "INSERT INTO merges (at, keep, lose, reason, links) VALUES (?,?,?,?,?) RETURNING id",
            (ts(), keep, lose, reason, json.dumps([list(r) for r in links], ensure_ascii=False)),
        )

    def merges_into(self, guest_id: str) -> list[MergeRow]:
        """Merges that kept `guest_id`, newest first, not undone."""
        rows = self.conn.execute(
            "SELECT id, at, keep, lose, reason, links, undone_at FROM merges WHERE keep = ?"
            " AND undone_at IS NULL ORDER BY id DESC",
            (guest_id,),
        ).fetchall()
        return [_merge_row(r) for r in rows]

    def merges_since(self, after_id: int = 0, *, limit: int = 1000) -> list[MergeRow]:
        """Merges in order (delivery uses this to merge CRM contacts)."""
        rows = self.conn.execute(
            "SELECT id, at, keep, lose, reason, links, undone_at FROM merges WHERE id > ?"
            " ORDER BY id LIMIT ?",
            (after_id, limit),
        ).fetchall()
        return [_merge_row(r) for r in rows]

    def mark_merge_undone(self, merge_id: int) -> None:
        self.conn.execute("UPDATE merges SET undone_at = ? WHERE id = ?", (ts(), merge_id))

    def keep_apart(self, a: str, b: str, reason: str) -> None:
        lo, hi = sorted((a, b))
        self.conn.execute(
            "INSERT INTO kept_apart (a, b, reason, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (lo, hi, reason, ts()),
        )

    def kept_apart(self, a: str, b: str) -> bool:
        lo, hi = sorted((a, b))
        return self._one("SELECT 1 FROM kept_apart WHERE a = ? AND b = ?", (lo, hi)) is not None

    def link_state(self, ref: Ref) -> tuple[str, bool] | None:
        """(guest id, pinned) of a linked record, or None."""
        r = self.conn.execute(
            "SELECT guest_id, pinned FROM guest_links WHERE source = ? AND stream = ? AND"
            " external_id = ?",
            ref,
        ).fetchone()
        return (r[0], bool(r[1])) if r else None

    def repoint_entities(self, refs: Sequence[Ref], guest_id: str) -> None:
        """Bookings, bills, answers, consent, loyalty rows follow their records (merge, unmerge)."""
        for table in ("reservations", "orders", "feedback"):
            self.conn.executemany(
                f"UPDATE {table} SET guest_id = ? WHERE source = ? AND external_id = ?",
                [(guest_id, r[0], r[2]) for r in refs],
            )
        for table in ("consent_events", *LOYALTY_TABLES):
            self.conn.executemany(
                f"UPDATE {table} SET guest_id = ? WHERE (source, stream, external_id) = (?,?,?)",
                [(guest_id, *r) for r in refs],
            )

    def cancel_guest_merge(self, keep: str, lose: str) -> None:
        """An unmerge undid `lose` -> `keep`: no target carries that merge out any more
        (those that did already keep it; the guest that came back gets its own record)."""
        ids = [
            r[0]
            for r in self.conn.execute(
                "SELECT id FROM guest_merges WHERE keep_guest_id = ? AND lose_guest_id = ?"
                " AND undone_at IS NULL",
                (keep, lose),
            )
        ]
        self.conn.executemany(
            "UPDATE guest_merges SET undone_at = ? WHERE id = ?", [(ts(), i) for i in ids]
        )
        self.conn.executemany(
            "UPDATE crm_ops SET status = 'cancelled', updated_at = ? WHERE merge_id = ?"
            " AND status = 'pending'",
            [(ts(), i) for i in ids],
        )

    def keep_op_crm_id(self, op_id: int, crm_id: str) -> None:
        """A merge the target cannot do: remember the loser's CRM record id."""
        self.conn.execute("UPDATE crm_ops SET crm_id = ? WHERE id = ?", (crm_id, op_id))

    def crm_duplicates_of(self, guest_id: str) -> list[dict[str, str]]:
        """CRM records of guests merged into `guest_id` that their target could not merge
        (no merge API): they stay in the CRM, no longer updated, to merge by hand."""
        rows = self.conn.execute(
            "SELECT target, guest_id, crm_id FROM crm_ops WHERE kind = 'merge' AND status ="
            " 'skipped' AND keep_guest_id = ? AND crm_id IS NOT NULL ORDER BY id",
            (guest_id,),
        ).fetchall()
        return [{"target": t, "merged_guest": g, "crm_id": c} for t, g, c in rows]

    def crm_merges_done(self, keep: str, lose: str) -> list[tuple[str, str | None]]:
        """(target, keeper's CRM id) where `lose` was already merged into `keep` in the CRM."""
        rows = self.conn.execute(
            "SELECT o.target, l.crm_id FROM crm_ops o LEFT JOIN crm_links l ON l.target ="
            " o.target AND l.guest_id = o.keep_guest_id WHERE o.kind = 'merge' AND o.status ="
            " 'done' AND o.keep_guest_id = ? AND o.guest_id = ? ORDER BY o.id",
            (keep, lose),
        ).fetchall()
        return [(t, c) for t, c in rows]

    def link_features(self, *, chunk: int = 5000) -> Iterator[Any]:
        """The stored features of every linked record (parsed JSON; a link stored before
        features existed gives its record, a Guest, for the caller to fold), in key order
        and read in chunks: `guests blocking` walks a whole store with it."""
        last: tuple[str, str, str] = ("", "", "")
        while True:
            rows = self.conn.execute(
                "SELECT source, stream, external_id, features, record FROM guest_links"
                " WHERE (source, stream, external_id) > (?, ?, ?)"
                " ORDER BY source, stream, external_id LIMIT ?",
                (*last, chunk),
            ).fetchall()
            if not rows:
                return
            for source, stream, ext, feats, record in rows:
                yield json.loads(feats) if feats else Guest.model_validate_json(record)
                last = (source, stream, ext)

    def link_map(self) -> dict[str, str]:
        """external_id -> guest id for every linked record (benchmarks, small exports)."""
        return dict(self.conn.execute("SELECT external_id, guest_id FROM guest_links"))
