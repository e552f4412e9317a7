"""Read-only queries for `guestsync report`."""

from __future__ import annotations

from datetime import datetime

from .base import StoreBase, ts

# Rows that came with a source record its source removed (a voided bill) do not count,
# as in the guests' aggregates.
_NOT_REMOVED = (
    "NOT EXISTS (SELECT 1 FROM guest_links x WHERE x.source = {t}.source"
    " AND x.external_id = {t}.external_id AND x.removed_at IS NOT NULL)"
)


_DUE = ("completed", "seated", "no_show")  # reservations that were due


class ReportOps(StoreBase):
    def guests_by_segment(self) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT coalesce(a.segment, 'not computed'), count(*) FROM guests g"
            " LEFT JOIN guest_aggregates a ON a.guest_id = g.id WHERE g.merged_into IS NULL"
            " GROUP BY 1 ORDER BY 2 DESC, 1"
        )
        return dict(rows.fetchall())

    def new_guests_by_source(self, since: datetime) -> dict[str, int]:
        """Guests created since `since`, by the source of their earliest-seen record."""
        rows = self.conn.execute(
            "SELECT coalesce((SELECT l.source FROM guest_links l WHERE l.guest_id = g.id ORDER"
            " BY l.seen_at, l.source, l.stream, l.external_id LIMIT 1), '?') AS src, count(*)"
            " FROM guests g"
            " WHERE g.created_at >= ? AND g.merged_into IS NULL GROUP BY src ORDER BY 2 DESC, 1",
            (ts(since),),
        )
        return dict(rows.fetchall())

    def no_shows_by_source(self) -> dict[str, tuple[int, int]]:
        """source -> (no-shows, reservations that were due: completed, seated, no-show).

        Counted over every reservation in one scan, less those of the (few) removed
        records: a NOT EXISTS per reservation costs a look-up per row, which made the
        report grow faster than the bookings."""
        totals: dict[str, list[int]] = {}  # source -> [reservations, no-shows, due]
        # reservations_by_status (m0027) covers this: the index is read, not the rows
        by_status = "SELECT source, status, count(*) FROM reservations GROUP BY source, status"
        for source, status, n in self.conn.execute(by_status):
            t = totals.setdefault(source, [0, 0, 0])
            t[0] += n
            t[1] += n if status == "no_show" else 0
            t[2] += n if status in _DUE else 0
        for source, status, n in self.conn.execute(
            "SELECT r.source, r.status, count(*) FROM (SELECT DISTINCT source, external_id FROM"
            " guest_links WHERE removed_at IS NOT NULL) x JOIN reservations r"
            " ON r.source = x.source AND r.external_id = x.external_id GROUP BY 1, 2"
        ):
            t = totals[source]
            t[0] -= n
            t[1] -= n if status == "no_show" else 0
            t[2] -= n if status in _DUE else 0
        return {s: (t[1], t[2]) for s, t in sorted(totals.items()) if t[0]}

    def top_items(self, *, limit: int = 10) -> list[tuple[str, float, int]]:
        """(dish, quantity sold, guests who ordered it), most sold first."""
        rows = self.conn.execute(
            "SELECT min(trim(i.name)), sum(CAST(i.quantity AS REAL)), count(DISTINCT o.guest_id)"
            " FROM order_items i JOIN orders o ON o.source = i.source AND"
            f" o.external_id = i.external_id WHERE {_NOT_REMOVED.format(t='o')}"
            " GROUP BY lower(trim(i.name))"
            " ORDER BY 2 DESC, 1 LIMIT ?",
            (limit,),
        )
        return [(r[0], float(r[1]), int(r[2])) for r in rows]

    def activity_totals(self) -> dict[str, float | int | None]:
        one = self._one
        return {
            "guests": one("SELECT count(*) FROM guests WHERE merged_into IS NULL"),
            "reservations": one("SELECT count(*) FROM reservations"),
            "orders": one("SELECT count(*) FROM orders"),
            "feedback": one("SELECT count(*) FROM feedback"),
            "visits": one(
                "SELECT coalesce(sum(json_extract(a.data, '$.visit_count')), 0)"
                " FROM guest_aggregates a JOIN guests g ON g.id = a.guest_id"
                " WHERE g.merged_into IS NULL"
            ),
            "average_rating": one("SELECT round(avg(CAST(rating AS REAL)), 2) FROM feedback"),
        }
