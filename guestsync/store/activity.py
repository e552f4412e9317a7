"""Orders, order items, feedback and per-guest aggregates.

`guest_activity()` reads everything one guest did, which is all `aggregates.compute()`
needs: the aggregates are re-derived per touched guest, never patched by deltas.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from ..models import Feedback, Order, OrderChannel, ReservationStatus
from .base import StoreBase, ts

# Read rows for `aggregates.compute()`: named tuples, since a guest's whole history is
# read on every recomputation: pydantic construction dominated its cost, and a frozen
# dataclass's __init__ (a setattr per field) was still ~2% of the settle phase (50k rows).


class ReservationRow(NamedTuple):
    source: str
    external_id: str
    venue: str | None
    start_at: datetime | None
    party_size: int | None
    status: ReservationStatus


class ItemRow(NamedTuple):
    name: str
    quantity: Decimal
    unit_price: Decimal | None = None


class OrderRow(NamedTuple):
    source: str
    external_id: str
    venue: str | None
    placed_at: datetime | None
    channel: OrderChannel
    total: Decimal | None
    currency: str | None
    items: list[ItemRow]
    reservation_id: str | None = None


class FeedbackRow(NamedTuple):
    rating: Decimal | None
    comment: str | None
    at: datetime | None
    venue: str | None = None


@dataclass
class GuestActivity:
    reservations: list[ReservationRow] = field(default_factory=list)
    orders: list[OrderRow] = field(default_factory=list)
    feedback: list[FeedbackRow] = field(default_factory=list)


# Stored value -> member: a dict look-up, not the enum's call (a row of every guest settled)
_STATUS = {s.value: s for s in ReservationStatus}
_CHANNEL = {c.value: c for c in OrderChannel}


def _dec(v: str | None) -> Decimal | None:
    return Decimal(v) if v not in (None, "") else None


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


class ActivityOps(StoreBase):
    def upsert_order(
        self,
        *,
        source: str,
        external_id: str,
        guest_id: str,
        order: Order,
        updated_at: datetime | None,
    ) -> None:
        o = order
        self.conn.execute(
            "INSERT INTO orders (source, external_id, guest_id, venue, placed_at, channel, total,"
            " currency, reservation_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (source, external_id) DO UPDATE SET guest_id = excluded.guest_id,"
            " venue = excluded.venue, placed_at = excluded.placed_at,"
            " channel = excluded.channel, total = excluded.total, currency = excluded.currency,"
            " reservation_id = excluded.reservation_id, updated_at = excluded.updated_at",
            (
                source,
                external_id,
                guest_id,
                o.venue,
                _iso(o.placed_at),
                o.channel.value,
                str(o.total) if o.total is not None else None,
                o.currency,
                o.reservation_id,
                ts(updated_at),
            ),
        )
        # The items of an order are replaced as a whole: a re-sent bill may have fewer lines.
        self.conn.execute(
            "DELETE FROM order_items WHERE source = ? AND external_id = ?", (source, external_id)
        )
        self.conn.executemany(
            "INSERT INTO order_items (source, external_id, line, name, quantity, unit_price)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    source,
                    external_id,
                    i,
                    it.name,
                    str(it.quantity),
                    str(it.unit_price) if it.unit_price is not None else None,
                )
                for i, it in enumerate(o.items)
            ],
        )

    def upsert_feedback(
        self,
        *,
        source: str,
        external_id: str,
        guest_id: str,
        feedback: Feedback,
        updated_at: datetime | None,
    ) -> None:
        f = feedback
        self.conn.execute(
            "INSERT INTO feedback (source, external_id, guest_id, rating, comment, at, venue,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, external_id)"
            " DO UPDATE SET guest_id = excluded.guest_id, rating = excluded.rating,"
            " comment = excluded.comment, at = excluded.at, venue = excluded.venue,"
            " updated_at = excluded.updated_at",
            (
                source,
                external_id,
                guest_id,
                str(f.rating) if f.rating is not None else None,
                f.comment,
                _iso(f.at),
                f.venue,
                ts(updated_at),
            ),
        )

    def guest_activity(self, guest_id: str) -> GuestActivity:
        """Everything the guest did, less what came with a source record its source removed
        (a deleted form entry or bill no longer counts; a restore counts it again)."""
        return self.guest_activities([guest_id])[guest_id]

    def guest_activities(self, guest_ids: Sequence[str]) -> dict[str, GuestActivity]:
        """`guest_activity` of many guests, in a few queries per 500 guests."""
        out = {g: GuestActivity() for g in guest_ids}
        # No record removed by its source (the index of those is partial): no guest's
        # links need reading for them; no bill or answer in the store: no query for them
        # (a booking export's import: ~3% of the settle phase, 50k rows)
        removals = self._one("SELECT 1 FROM guest_links WHERE removed_at IS NOT NULL LIMIT 1")
        filled = self._filled(("orders", "feedback"))
        for i in range(0, len(guest_ids), 500):
            part = list(guest_ids[i : i + 500])
            self._activities(part, out, removals=bool(removals), filled=filled)
        return out

    def _activities(
        self,
        ids: list[str],
        out: dict[str, GuestActivity],
        *,
        removals: bool,
        filled: set[str],
    ) -> None:
        dt = datetime.fromisoformat
        marks = ",".join("?" * len(ids))
        gone = (
            {
                (r[0], r[1])
                for r in self.conn.execute(
                    f"SELECT source, external_id FROM guest_links WHERE guest_id IN ({marks})"
                    " AND removed_at IS NOT NULL",
                    ids,
                )
            }
            if removals
            else set()
        )
        for r in self.conn.execute(
            "SELECT guest_id, source, external_id, venue, start_at, party_size, status"
            f" FROM reservations WHERE guest_id IN ({marks})"
            " ORDER BY guest_id, source, external_id",
            ids,
        ):
            if (r[1], r[2]) not in gone:
                out[r[0]].reservations.append(
                    ReservationRow(
                        r[1], r[2], r[3], dt(r[4]) if r[4] else None, r[5], _STATUS[r[6]]
                    )
                )
        if "orders" in filled:
            self._orders(ids, marks, gone, out)
        if "feedback" not in filled:
            return
        for r in self.conn.execute(
            "SELECT guest_id, rating, comment, at, venue, source, external_id FROM feedback"
            f" WHERE guest_id IN ({marks}) ORDER BY guest_id, at, source, external_id",
            ids,
        ):
            if (r[5], r[6]) not in gone:
                out[r[0]].feedback.append(
                    FeedbackRow(_dec(r[1]), r[2], dt(r[3]) if r[3] else None, r[4])
                )

    def _orders(
        self, ids: list[str], marks: str, gone: set[tuple[str, str]], out: dict[str, GuestActivity]
    ) -> None:
        dt = datetime.fromisoformat
        items: dict[tuple[str, str], list[ItemRow]] = {}
        for r in self.conn.execute(
            "SELECT i.source, i.external_id, i.name, i.quantity, i.unit_price FROM order_items i"
            " JOIN orders o ON o.source = i.source AND o.external_id = i.external_id"
            f" WHERE o.guest_id IN ({marks}) ORDER BY i.source, i.external_id, i.line",
            ids,
        ):
            items.setdefault((r[0], r[1]), []).append(ItemRow(r[2], Decimal(r[3]), _dec(r[4])))
        for r in self.conn.execute(
            "SELECT guest_id, source, external_id, venue, placed_at, channel, total, currency,"
            f" reservation_id FROM orders WHERE guest_id IN ({marks})"
            " ORDER BY guest_id, source, external_id",
            ids,
        ):
            if (r[1], r[2]) not in gone:
                out[r[0]].orders.append(
                    OrderRow(
                        r[1],
                        r[2],
                        r[3],
                        dt(r[4]) if r[4] else None,
                        _CHANNEL[r[5]],
                        _dec(r[6]),
                        r[7],
                        items.get((r[1], r[2]), []),
                        r[8],
                    )
                )

    def count_orders(self) -> int:
        return self._one("SELECT count(*) FROM orders")

    def count_feedback(self) -> int:
        return self._one("SELECT count(*) FROM feedback")

    # aggregates

    def save_aggregates(
        self,
        guest_id: str,
        data: dict[str, Any],
        segment: str,
        recheck_on: date | None = None,
        *,
        stamp: str = "",
    ) -> None:
        text = json.dumps(data, ensure_ascii=False, sort_keys=True)
        self.save_aggregates_many([(guest_id, text, segment, recheck_on)], stamp=stamp)

    def save_aggregates_many(
        self,
        rows: Iterable[tuple[str, str, str, date | None]],
        *,
        stamp: str = "",
    ) -> None:
        """`save_aggregates` for many guests: (guest id, data as JSON text, segment,
        recheck on)."""
        now = ts()
        self.conn.executemany(
            "INSERT INTO guest_aggregates (guest_id, data, segment, computed_at, recheck_on,"
            " stamp, segment_since) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guest_id)"
            " DO UPDATE SET data = excluded.data, segment = excluded.segment,"
            " previous_segment = CASE WHEN guest_aggregates.segment IS excluded.segment"
            " THEN guest_aggregates.previous_segment ELSE guest_aggregates.segment END,"
            " segment_since = CASE WHEN guest_aggregates.segment IS excluded.segment"
            " THEN guest_aggregates.segment_since ELSE excluded.segment_since END,"
            " computed_at = excluded.computed_at, recheck_on = excluded.recheck_on,"
            " stamp = excluded.stamp",
            [
                (
                    gid,
                    data,
                    segment,
                    now,
                    recheck_on.isoformat() if recheck_on else None,
                    stamp,
                    now,
                )
                for gid, data, segment, recheck_on in rows
            ],
        )

    def segment_history(self, guest_id: str) -> tuple[str | None, str | None]:
        """(the segment before the current one, since when the current one holds)."""
        row = self.conn.execute(
            "SELECT previous_segment, segment_since FROM guest_aggregates WHERE guest_id = ?",
            (guest_id,),
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def guests_to_recheck(self, today: date, *, stamp: str) -> list[str]:
        """Guests whose aggregates may differ by `today` with no new record: their recheck
        day came, they were computed under other settings (`stamp`), or never."""
        rows = self.conn.execute(
            "SELECT g.id FROM guests g LEFT JOIN guest_aggregates a ON a.guest_id = g.id"
            " WHERE g.merged_into IS NULL"
            " AND (a.guest_id IS NULL OR a.recheck_on <= ? OR a.stamp IS NOT ?)"
            " ORDER BY g.id",
            (today.isoformat(), stamp),
        )
        return [r[0] for r in rows]

    def get_aggregates(self, guest_id: str) -> dict[str, Any] | None:
        data = self._one("SELECT data FROM guest_aggregates WHERE guest_id = ?", (guest_id,))
        return json.loads(data) if data else None

    def all_aggregates(self) -> dict[str, dict[str, Any]]:
        return {
            gid: json.loads(data)
            for gid, data in self.conn.execute("SELECT guest_id, data FROM guest_aggregates")
        }

    def all_guest_ids(self) -> list[str]:
        """Every guest that was not merged into another."""
        rows = self.conn.execute(
            "SELECT id FROM guests WHERE merged_into IS NULL ORDER BY created_at, id"
        )
        return [r[0] for r in rows]
