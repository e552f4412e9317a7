"""Read-only queries for `guestsync report`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

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

    def new_guests_by_source(self, since: datetime, until: datetime) -> dict[str, int]:
        """Guests whose first booking or bill falls in [since, until), by the source of that
        first one. Not the time a guest was created here: a year of history imported today
        would make everyone new (issue 24). Guests with neither are not counted.

        One pass over the bookings and bills, numbered per guest by time (a window
        function: both databases run it, where a bare column beside `min()` is SQLite's)."""
        rows = self.conn.execute(
            "SELECT f.source, count(*) FROM (SELECT a.guest_id, a.source, a.at AS first,"
            " row_number() OVER (PARTITION BY a.guest_id ORDER BY a.at, a.source) AS n"
            " FROM (SELECT guest_id, source, julianday(start_at) AS at FROM reservations r"
            f" WHERE start_at IS NOT NULL AND {_NOT_REMOVED.format(t='r')}"
            " UNION ALL SELECT guest_id, source, julianday(placed_at) FROM orders o"
            f" WHERE placed_at IS NOT NULL AND {_NOT_REMOVED.format(t='o')}) a) f"
            " JOIN guests g ON g.id = f.guest_id WHERE f.n = 1 AND g.merged_into IS NULL"
            " AND f.first >= julianday(?) AND f.first < julianday(?)"
            " GROUP BY f.source ORDER BY 2 DESC, 1",
            (ts(since), ts(until)),
        )
        return dict(rows.fetchall())

    def spend_by_hour(self, since: datetime) -> list[tuple[str, str | None, int, float]]:
        """(UTC hour 'YYYY-MM-DDTHH', currency, bills, total) of the bills since `since`:
        the caller buckets the hours into months of its own time zone, exactly."""
        rows = self.conn.execute(
            "SELECT strftime('%Y-%m-%dT%H', placed_at) AS h, currency, count(*),"
            " coalesce(sum(CAST(total AS REAL)), 0) FROM orders o"
            f" WHERE placed_at IS NOT NULL AND julianday(placed_at) >= julianday(?)"
            f" AND {_NOT_REMOVED.format(t='o')} GROUP BY h, currency ORDER BY h",
            (ts(since),),
        )
        return [(r[0], r[1], int(r[2]), float(r[3])) for r in rows]

    def no_shows_by_hour(self, since: datetime) -> list[tuple[str, int, int]]:
        """(UTC hour 'YYYY-MM-DDTHH', no-shows, bookings that were due) since `since`, for
        the no-show rate by the local weekday."""
        rows = self.conn.execute(
            "SELECT strftime('%Y-%m-%dT%H', start_at) AS h, sum(status = 'no_show'), count(*)"
            " FROM reservations r WHERE status IN ('completed', 'seated', 'no_show')"
            " AND start_at IS NOT NULL AND julianday(start_at) >= julianday(?)"
            f" AND {_NOT_REMOVED.format(t='r')} GROUP BY h ORDER BY h",
            (ts(since),),
        )
        return [(r[0], int(r[1]), int(r[2])) for r in rows]

    def guests_in_segment(self, segment: str, *, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """How many guests are in `segment`, and the `limit` with most visits: id, name,
        visits, last visit (a date) and spend (currency -> amount as text)."""
        total = self._one(
            "SELECT count(*) FROM guest_aggregates a JOIN guests g ON g.id = a.guest_id"
            " WHERE a.segment = ? AND g.merged_into IS NULL",
            (segment,),
        )
        rows = self.conn.execute(
            "SELECT g.id, g.display_name, json_extract(a.data, '$.visit_count') AS visits,"
            " json_extract(a.data, '$.last_visit') AS last, json_extract(a.data, '$.spend')"
            " FROM guest_aggregates a JOIN guests g ON g.id = a.guest_id"
            " WHERE a.segment = ? AND g.merged_into IS NULL"
            " ORDER BY visits DESC, last DESC, g.id LIMIT ?",
            (segment, limit),
        )
        out = [
            {
                "id": r[0],
                "name": r[1] or "",
                "visits": int(r[2] or 0),
                "last_visit": r[3],
                "spend": json.loads(r[4]) if r[4] else {},
            }
            for r in rows
        ]
        return int(total or 0), out

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
                "SELECT coalesce(sum(CAST(json_extract(a.data, '$.visit_count') AS INTEGER)), 0)"
                " FROM guest_aggregates a JOIN guests g ON g.id = a.guest_id"
                " WHERE g.merged_into IS NULL"
            ),
            "average_rating": one("SELECT round(avg(CAST(rating AS REAL)), 2) FROM feedback"),
        }
