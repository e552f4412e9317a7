"""Membership programmes in the store: points movements, stated balances, memberships,
coupons (each with the source record it came with), loyalty aggregates and tier events.

`loyalty_activities()` reads everything of a few guests, which is all
`restaurant.loyalty.compute()` needs: like the visit aggregates, a guest's loyalty
figures are re-derived from their rows, never patched by deltas.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..models import Coupon, LoyaltyPart, Membership, PointsBalance, PointsKind, PointsMovement
from .base import StoreBase, ts

# The tables whose rows follow their source record's guest (merge, unmerge, forget).
LOYALTY_TABLES = ("points_movements", "point_balances", "memberships", "coupons")


@dataclass(frozen=True, slots=True)
class MovementRow:
    programme: str
    member: str
    kind: PointsKind
    delta: Decimal
    balance_after: Decimal | None
    at: datetime | None
    movement_id: str


@dataclass(frozen=True, slots=True)
class BalanceRow:
    programme: str
    member: str
    balance: Decimal
    as_of: datetime | None


@dataclass(frozen=True, slots=True)
class MembershipRow:
    programme: str
    member: str
    tier: str | None
    since: datetime | None
    until: datetime | None
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class CouponRow:
    campaign: str | None
    issued_at: datetime | None
    redeemed_at: datetime | None
    expires_at: datetime | None
    expired: bool
    value: Decimal | None


@dataclass
class LoyaltyActivity:
    movements: list[MovementRow] = field(default_factory=list)
    balances: list[BalanceRow] = field(default_factory=list)
    memberships: list[MembershipRow] = field(default_factory=list)
    coupons: list[CouponRow] = field(default_factory=list)


_TABLES = ("points_movements", "point_balances", "memberships", "coupons")


def _t(dt: datetime | None) -> str | None:
    return ts(dt) if dt is not None else None


def _dt(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


def _dec(v: str | None) -> Decimal | None:
    return Decimal(v) if v not in (None, "") else None


def _s(v: Decimal | None) -> str | None:
    return str(v) if v is not None else None


class LoyaltyOps(StoreBase):
    def save_loyalty(
        self,
        *,
        source: str,
        stream: str,
        external_id: str,
        guest_id: str,
        part: LoyaltyPart,
        seen: datetime,
    ) -> None:
        """Store one record's movement, balance, membership or coupon (an upsert: a coupon
        sent again when redeemed, a member's tier re-exported, update their row)."""
        rec = (source, stream, external_id, guest_id)
        if isinstance(part, PointsMovement):
            self.conn.execute(
                "INSERT INTO points_movements (programme, movement_id, source, stream,"
                " external_id, guest_id, member, kind, delta, balance_after, at, order_ref)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (programme,"
                " movement_id) DO UPDATE SET source = excluded.source, stream = excluded.stream,"
                " external_id = excluded.external_id, guest_id = excluded.guest_id,"
                " member = excluded.member, kind = excluded.kind, delta = excluded.delta,"
                " balance_after = excluded.balance_after, at = excluded.at,"
                " order_ref = excluded.order_ref",
                (
                    part.programme,
                    external_id,
                    *rec,
                    part.member or "",
                    part.kind.value,
                    str(part.delta()),
                    _s(part.balance_after),
                    _t(part.at),
                    part.order_ref,
                ),
            )
        elif isinstance(part, PointsBalance):
            self._balance(rec, part.programme, part.member, part.balance, part.as_of or seen)
        elif isinstance(part, Membership):
            self.conn.execute(
                "INSERT INTO memberships (source, stream, external_id, guest_id,"
                " programme, member, tier, since, until, seen_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (source, stream, external_id) DO UPDATE SET"
                " guest_id = excluded.guest_id, programme = excluded.programme,"
                " member = excluded.member, tier = excluded.tier, since = excluded.since,"
                " until = excluded.until, seen_at = excluded.seen_at",
                (
                    *rec,
                    part.programme,
                    part.member or "",
                    part.tier,
                    _t(part.since),
                    _t(part.until),
                    ts(seen),
                ),
            )
            if part.balance is not None:
                self._balance(
                    rec, part.programme, part.member, part.balance, part.balance_as_of or seen
                )
        elif isinstance(part, Coupon):
            self.conn.execute(
                "INSERT INTO coupons (source, stream, external_id, guest_id,"
                " programme, member, code, campaign, issued_at, redeemed_at, expires_at,"
                " expired, value, order_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (source, stream, external_id) DO UPDATE SET"
                " guest_id = excluded.guest_id, programme = excluded.programme,"
                " member = excluded.member, code = excluded.code, campaign = excluded.campaign,"
                " issued_at = excluded.issued_at, redeemed_at = excluded.redeemed_at,"
                " expires_at = excluded.expires_at, expired = excluded.expired,"
                " value = excluded.value, order_ref = excluded.order_ref",
                (
                    *rec,
                    part.programme,
                    part.member,
                    part.code or external_id,
                    part.campaign,
                    _t(part.issued_at),
                    _t(part.redeemed_at),
                    _t(part.expires_at),
                    int(part.expired),
                    _s(part.value),
                    part.order_ref,
                ),
            )

    def _balance(
        self,
        rec: tuple[str, str, str, str],
        programme: str,
        member: str | None,
        balance: Decimal,
        as_of: datetime,
    ) -> None:
        """The newest statement a record made is kept (an older re-export does not win)."""
        self.conn.execute(
            "INSERT INTO point_balances (source, stream, external_id, guest_id, programme,"
            " member, balance, as_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (source, stream, external_id) DO UPDATE SET"
            " guest_id = excluded.guest_id, programme = excluded.programme,"
            " member = excluded.member, balance = excluded.balance, as_of = excluded.as_of"
            " WHERE excluded.as_of >= point_balances.as_of",
            (*rec, programme, member or "", str(balance), ts(as_of)),
        )

    def loyalty_activities(self, guest_ids: Sequence[str]) -> dict[str, LoyaltyActivity]:
        """Each guest's movements, balances, memberships and coupons, less those that came
        with a record its source removed; a few queries per 500 guests."""
        out = {g: LoyaltyActivity() for g in guest_ids}
        # no loyalty row in the store (a booking export's import): no query per 500 guests
        if not self._filled(_TABLES):
            return out
        for i in range(0, len(guest_ids), 500):
            self._loyalty(list(guest_ids[i : i + 500]), out)
        return out

    def _rows(self, table: str, cols: str, ids: list[str]) -> Iterable[Any]:
        marks = ",".join("?" * len(ids))
        return self.conn.execute(
            f"SELECT t.guest_id, {cols} FROM {table} t WHERE t.guest_id IN ({marks})"
            " AND NOT EXISTS (SELECT 1 FROM guest_links x WHERE x.source = t.source AND"
            " x.stream = t.stream AND x.external_id = t.external_id AND x.removed_at IS NOT NULL)"
            " ORDER BY t.guest_id, 3, t.source, t.external_id",
            ids,
        )

    def _loyalty(self, ids: list[str], out: dict[str, LoyaltyActivity]) -> None:
        cols = "programme, at, member, kind, delta, balance_after, movement_id"
        for r in self._rows("points_movements", cols, ids):
            out[r[0]].movements.append(
                MovementRow(
                    r[1], r[3], PointsKind(r[4]), Decimal(r[5]), _dec(r[6]), _dt(r[2]), r[7]
                )
            )
        for r in self._rows("point_balances", "programme, as_of, member, balance", ids):
            out[r[0]].balances.append(BalanceRow(r[1], r[3], Decimal(r[4]), _dt(r[2])))
        cols = "programme, since, member, tier, until, seen_at"
        for r in self._rows("memberships", cols, ids):
            out[r[0]].memberships.append(
                MembershipRow(r[1], r[3], r[4], _dt(r[2]), _dt(r[5]), datetime.fromisoformat(r[6]))
            )
        cols = "campaign, issued_at, redeemed_at, expires_at, expired, value"
        for r in self._rows("coupons", cols, ids):
            out[r[0]].coupons.append(
                CouponRow(r[1], _dt(r[2]), _dt(r[3]), _dt(r[4]), bool(r[5]), _dec(r[6]))
            )

    # -- per-guest loyalty aggregates and tier events ----------------------------------

    def loyalty_tiers(self, guest_ids: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
        """guest -> (tier, since) as last computed; guests never computed are absent."""
        out: dict[str, tuple[str | None, str | None]] = {}
        ids = list(guest_ids)
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            out |= {
                r[0]: (r[1], r[2])
                for r in self.conn.execute(
                    "SELECT guest_id, tier, tier_since FROM loyalty_aggregates WHERE guest_id"
                    f" IN ({','.join('?' * len(part))})",
                    part,
                )
            }
        return out

    def save_loyalty_aggregates(
        self, rows: Sequence[tuple[str, str, str | None, str | None, bool]], stamp: str
    ) -> None:
        """(guest, data as JSON text, tier, tier since, member) per guest."""
        now = ts()
        self.conn.executemany(
            "INSERT INTO loyalty_aggregates (guest_id, data, tier, tier_since,"
            " member, stamp, computed_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (guest_id) DO UPDATE SET data = excluded.data,"
            " tier = excluded.tier, tier_since = excluded.tier_since,"
            " member = excluded.member, stamp = excluded.stamp,"
            " computed_at = excluded.computed_at",
            [(g, d, t, s, int(m), stamp, now) for g, d, t, s, m in rows],
        )

    def get_loyalty_aggregates(self, guest_id: str) -> dict[str, Any] | None:
        data = self._one("SELECT data FROM loyalty_aggregates WHERE guest_id = ?", (guest_id,))
        return json.loads(data) if data else None

    def add_tier_events(
        self, rows: Sequence[tuple[str, str, str | None, str | None, str, str]]
    ) -> None:
        """(guest, at, from tier, to tier, direction, basis) per change."""
        self.conn.executemany(
            "INSERT INTO tier_events (guest_id, at, from_tier, to_tier, direction, basis)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )

    def tier_events(self, guest_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT at, from_tier, to_tier, direction, basis FROM tier_events WHERE guest_id = ?"
            " ORDER BY at, id",
            (guest_id,),
        )
        keys = ("at", "from", "to", "direction", "basis")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def recheck_no_later_than(self, days: Sequence[tuple[str, str]]) -> None:
        """(guest, ISO day): the daily refresh looks at the guest again by that day (a
        visit or a points movement leaving the tier window changes its tier)."""
        self.conn.executemany(
            "UPDATE guest_aggregates SET recheck_on = ? WHERE guest_id = ? AND"
            " (recheck_on IS NULL OR recheck_on > ?)",
            [(d, g, d) for g, d in days],
        )
