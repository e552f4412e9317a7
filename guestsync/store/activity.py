"""Orders, order items, feedback and per-guest aggregates (issue 8).

`guest_activity()` reads everything one guest did, which is all `aggregates.compute()`
needs: the aggregates are re-derived per touched guest, never patched by deltas.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..models import Feedback, Order, OrderChannel, OrderItem, Reservation, ReservationStatus
from .base import StoreBase, ts


@dataclass(frozen=True)
class SourcedReservation:
    source: str
    external_id: str
    reservation: Reservation


@dataclass(frozen=True)
class SourcedOrder:
    source: str
    external_id: str
    order: Order


@dataclass
class GuestActivity:
    reservations: list[SourcedReservation] = field(default_factory=list)
    orders: list[SourcedOrder] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)


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
        act = GuestActivity()
        for r in self.conn.execute(
            "SELECT source, external_id, venue, start_at, party_size, status, channel"
            " FROM reservations WHERE guest_id = ? ORDER BY source, external_id",
            (guest_id,),
        ):
            res = Reservation.model_construct(
                venue=r[2],
                start_at=datetime.fromisoformat(r[3]) if r[3] else None,
                party_size=r[4],
                status=ReservationStatus(r[5]),
                channel=r[6],
                requests=None,
            )
            act.reservations.append(SourcedReservation(r[0], r[1], res))
        items: dict[tuple[str, str], list[OrderItem]] = {}
        for r in self.conn.execute(
            "SELECT i.source, i.external_id, i.name, i.quantity, i.unit_price FROM order_items i"
            " JOIN orders o ON o.source = i.source AND o.external_id = i.external_id"
            " WHERE o.guest_id = ? ORDER BY i.source, i.external_id, i.line",
            (guest_id,),
        ):
            items.setdefault((r[0], r[1]), []).append(
                OrderItem.model_construct(name=r[2], quantity=Decimal(r[3]), unit_price=_dec(r[4]))
            )
        for r in self.conn.execute(
            "SELECT source, external_id, venue, placed_at, channel, total, currency,"
            " reservation_id FROM orders WHERE guest_id = ? ORDER BY source, external_id",
            (guest_id,),
        ):
            order = Order.model_construct(
                venue=r[2],
                placed_at=datetime.fromisoformat(r[3]) if r[3] else None,
                channel=OrderChannel(r[4]),
                total=_dec(r[5]),
                currency=r[6],
                items=items.get((r[0], r[1]), []),
                reservation_id=r[7],
            )
            act.orders.append(SourcedOrder(r[0], r[1], order))
        for r in self.conn.execute(
            "SELECT rating, comment, at, venue FROM feedback WHERE guest_id = ?"
            " ORDER BY at, source, external_id",
            (guest_id,),
        ):
            act.feedback.append(
                Feedback.model_construct(
                    rating=_dec(r[0]),
                    comment=r[1],
                    at=datetime.fromisoformat(r[2]) if r[2] else None,
                    venue=r[3],
                )
            )
        return act

    def count_orders(self) -> int:
        return self._one("SELECT count(*) FROM orders")

    def count_feedback(self) -> int:
        return self._one("SELECT count(*) FROM feedback")

    # aggregates

    def save_aggregates(
        self, guest_id: str, data: dict[str, Any], segment: str, recheck_on: date | None = None
    ) -> None:
        self.conn.execute(
            "INSERT INTO guest_aggregates (guest_id, data, segment, computed_at, recheck_on)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (guest_id) DO UPDATE SET data = excluded.data,"
            " segment = excluded.segment, computed_at = excluded.computed_at,"
            " recheck_on = excluded.recheck_on",
            (
                guest_id,
                json.dumps(data, ensure_ascii=False, sort_keys=True),
                segment,
                ts(),
                recheck_on.isoformat() if recheck_on else None,
            ),
        )

    def guests_to_recheck(self, today: date) -> list[str]:
        """Guests whose aggregates may have changed by `today` with no new record."""
        rows = self.conn.execute(
            "SELECT guest_id FROM guest_aggregates WHERE recheck_on <= ? ORDER BY guest_id",
            (today.isoformat(),),
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
        return [r[0] for r in self.conn.execute("SELECT id FROM guests ORDER BY created_at, id")]
