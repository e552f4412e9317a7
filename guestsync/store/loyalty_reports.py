"""Read-only membership figures for `guestsync report`: members and non-members, tiers
and their changes, points liability, coupon redemption by campaign."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from .base import StoreBase, ts

_LIVE = "JOIN guests g ON g.id = a.guest_id AND g.merged_into IS NULL"


class LoyaltyReportOps(StoreBase):
    def members_and_others(self) -> tuple[int, int]:
        """(members of a programme, other guests), over guests not merged away."""
        members = self._one(f"SELECT count(*) FROM loyalty_aggregates a {_LIVE} WHERE a.member = 1")
        guests = self._one("SELECT count(*) FROM guests WHERE merged_into IS NULL")
        return members, guests - members

    def members_by_segment(self) -> dict[str, tuple[int, int]]:
        """segment -> (members, other guests), over the guests not merged away that have
        a segment: how membership sits beside the RFM segments."""
        rows = self.conn.execute(
            "SELECT s.segment, sum(coalesce(l.member, 0) = 1), sum(coalesce(l.member, 0) = 0)"
            " FROM guest_aggregates s JOIN guests g ON g.id = s.guest_id"
            " AND g.merged_into IS NULL LEFT JOIN loyalty_aggregates l ON l.guest_id = s.guest_id"
            " WHERE s.segment IS NOT NULL GROUP BY s.segment"
        )
        return {seg: (int(m or 0), int(o or 0)) for seg, m, o in rows}

    def guests_by_tier(self) -> dict[str, int]:
        rows = self.conn.execute(
            f"SELECT a.tier, count(*) FROM loyalty_aggregates a {_LIVE}"
            " WHERE a.tier IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"
        )
        return dict(rows.fetchall())

    def tier_changes_since(self, since: datetime) -> list[tuple[str, str, str, int]]:
        """(direction, from, to, guests) of the tier events since `since`, of guests not
        merged away; "-" for no tier."""
        rows = self.conn.execute(
            "SELECT a.direction, coalesce(a.from_tier, '-'), coalesce(a.to_tier, '-'), count(*)"
            f" FROM tier_events a {_LIVE} WHERE a.at >= ?"
            " GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3",
            (ts(since),),
        )
        return [(d, f, t, n) for d, f, t, n in rows]

    def points_liability(self) -> dict[str, tuple[Decimal, int]]:
        """programme -> (outstanding points of the guests not merged away, members holding
        a balance): what the group owes its members. Summed as Decimal, never as floats."""
        out: dict[str, tuple[Decimal, int]] = {}
        rows = self.conn.execute(
            "SELECT j.key, j.value FROM loyalty_aggregates a"
            f" {_LIVE}, json_each(a.data, '$.balances') j WHERE a.member = 1"
        )
        for programme, value in rows:
            total, n = out.get(programme, (Decimal(0), 0))
            out[programme] = (total + Decimal(str(value)), n + 1)
        return dict(sorted(out.items()))

    def coupons_by_campaign(self, now: datetime) -> dict[str, dict[str, int]]:
        """campaign -> {issued, redeemed, expired, open}, less coupons of removed records."""
        now_s = ts(now)
        rows = self.conn.execute(
            "SELECT coalesce(c.campaign, '-'), count(*), count(c.redeemed_at),"
            " sum(c.redeemed_at IS NULL AND (c.expired = 1 OR c.expires_at <= ?))"
            " FROM coupons c WHERE NOT EXISTS (SELECT 1 FROM guest_links x WHERE"
            " x.source = c.source AND x.stream = c.stream AND x.external_id = c.external_id"
            " AND x.removed_at IS NOT NULL) GROUP BY 1 ORDER BY 2 DESC, 1",
            (now_s,),
        )
        return {
            c: {"issued": n, "redeemed": r, "expired": e or 0, "open": n - r - (e or 0)}
            for c, n, r, e in rows
        }

    def balance_discrepancies(self) -> int:
        """Guests whose stated balance disagrees with their ledger."""
        return self._one(
            f"SELECT count(*) FROM loyalty_aggregates a {_LIVE} WHERE a.member = 1"
            " AND json_array_length(a.data, '$.discrepancies') > 0"
        )
