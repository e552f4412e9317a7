"""Per-guest membership figures: points balance per programme, points earned and
redeemed in the last 12 months, tier (stated or by rule), coupons, last redemption.

`compute()` is a pure function of one guest's loyalty rows (store/loyalty.py) and visit
aggregates, so recomputing the guests a batch touched gives what recomputing everyone
would, in whatever order the movements arrived.

Balances. Each member account (programme, member number) has its own balance; a guest's
balance in a programme is the sum of their accounts' (two members of one programme
merged into one guest: their balances add). An account's balance is its newest stated
balance (a balance statement, or a movement's `balance_after`) plus the movements after
it; with no statement, the sum of its movements. Where a statement is not the one before
it plus the movements between them, the disagreement is kept (`discrepancies`) and shown
in `guests show` and the report, not "fixed": the stated balance is what the guest can
spend.

Tiers. The tier a source states (the newest membership not past its `until`) wins when
`crm.tiers.prefer_stated` (the default); otherwise, and for guests no source gives a
tier, the first rule of `crm.tiers.rules` that holds.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from ..config.crm import CrmConfig
from ..config.loyalty import WINDOW_DAYS, TiersConfig
from ..models import Guest, PointsKind, built
from ..store.loyalty import LoyaltyActivity, MovementRow
from .aggregates import Aggregates

RATE = Decimal("0.0001")
_EPOCH = datetime.min.replace(tzinfo=UTC)


class Discrepancy(BaseModel):
    programme: str
    member: str
    stated: Decimal
    ledger: Decimal  # the movements up to the statement
    as_of: datetime


class Loyalty(BaseModel):
    member: bool = False
    programmes: list[str] = Field(default_factory=list)
    balances: dict[str, Decimal] = Field(default_factory=dict)  # programme -> points
    earned_12m: dict[str, Decimal] = Field(default_factory=dict)
    redeemed_12m: dict[str, Decimal] = Field(default_factory=dict)
    stated_tier: str | None = None
    rule_tier: str | None = None
    tier: str | None = None
    tier_basis: str | None = None  # source | rule
    tier_since: date | None = None
    open_coupons: int = 0
    redeemed_coupons: int = 0
    expired_coupons: int = 0
    coupon_redemption_rate: Decimal | None = None
    last_redemption: datetime | None = None
    discrepancies: list[Discrepancy] = Field(default_factory=list)
    window_exit: date | None = None  # the first day a movement or coupon changes a figure


# Every field in the model's order, the lists and dicts (made per guest) left as None
_START = {
    k: f.default if f.default_factory is None else None for k, f in Loyalty.model_fields.items()
}


def _account_balance(
    movements: list[MovementRow], statements: list[tuple[datetime, Decimal]]
) -> tuple[Decimal, list[tuple[Decimal, Decimal, datetime]]]:
    """(balance, [(stated, what the ledger makes it, as of)] where they disagree).

    Each statement is checked against the one before it plus the movements between
    them; the first against the movements before it, if any (with no opening balance
    stated, the ledger is taken to start at the member's start, from zero)."""
    # one sweep in time order (undated movements first): a member's ledger may be long
    moves = sorted(movements, key=lambda m: (m.at is not None, m.at or _EPOCH))
    wrong = []
    i, prev = 0, None
    for as_of, stated in sorted(statements):
        between, n = Decimal(0), 0
        while i < len(moves) and ((at := moves[i].at) is None or at <= as_of):
            between += moves[i].delta
            n, i = n + 1, i + 1
        ledger = (prev if prev is not None else Decimal(0)) + between
        if (prev is not None or n) and ledger != stated:
            wrong.append((stated, ledger, as_of))
        prev = stated
    rest = sum((m.delta for m in moves[i:]), Decimal(0))
    return (prev if prev is not None else Decimal(0)) + rest, wrong


def _stated_tier(
    act: LoyaltyActivity, now: datetime, programme: str | None
) -> tuple[str | None, datetime | None]:
    """The newest membership in force (its `until` not past) that names a tier."""
    held = [
        m
        for m in act.memberships
        if m.tier
        and (m.until is None or m.until >= now)
        and (programme is None or m.programme == programme)
    ]
    if not held:
        return None, None
    newest = max(held, key=lambda m: (m.since or m.seen_at, m.seen_at, m.tier or ""))
    return newest.tier, newest.since


def rule_tier(
    t: TiersConfig, *, spend_12m: Decimal, visits_12m: int, points_12m: Decimal
) -> str | None:
    """The first rule whose conditions all hold (each at or above its threshold)."""
    for r in t.rules:
        if r.spend_12m is not None and spend_12m < r.spend_12m:
            continue
        if r.visits_12m is not None and visits_12m < r.visits_12m:
            continue
        if r.points_12m is not None and points_12m < r.points_12m:
            continue
        return r.tier
    return None


def compute(
    guest: Guest | None,
    act: LoyaltyActivity,
    agg: Aggregates | None,
    *,
    now: datetime,
    tz: ZoneInfo,
    crm: CrmConfig,
) -> Loyalty:
    today = now.astimezone(tz).date()
    start = today - timedelta(days=WINDOW_DAYS - 1)
    # Plain attributes while counting (a model's are slow to set); one model at the end.
    out = SimpleNamespace(**_START)
    out.programmes, out.discrepancies = [], []
    out.balances, out.earned_12m, out.redeemed_12m = {}, {}, {}
    accounts: dict[tuple[str, str], list[MovementRow]] = defaultdict(list)
    statements: dict[tuple[str, str], list[tuple[datetime, Decimal]]] = defaultdict(list)
    exits: list[date] = []
    redemptions: list[datetime] = []
    for m in act.movements:
        accounts[(m.programme, m.member)].append(m)
        if m.balance_after is not None and m.at is not None:
            statements[(m.programme, m.member)].append((m.at, m.balance_after))
        if m.kind is PointsKind.redeem and m.at is not None:
            redemptions.append(m.at)
        day = m.at.astimezone(tz).date() if m.at is not None else None
        if day is not None and day >= start:
            exits.append(day + timedelta(days=WINDOW_DAYS))
            if m.kind is PointsKind.earn:
                out.earned_12m[m.programme] = out.earned_12m.get(m.programme, 0) + m.delta
            elif m.kind is PointsKind.redeem:
                out.redeemed_12m[m.programme] = out.redeemed_12m.get(m.programme, 0) - m.delta
    for b in act.balances:
        if b.as_of is not None:
            statements[(b.programme, b.member)].append((b.as_of, b.balance))
    for key, moves in accounts.items():
        # A ledger that starts after the member did (a webhook since last month): its
        # first movement's balance after, less the movement, is the opening balance.
        dated = [m for m in moves if m.at is not None]
        first = min(dated, key=lambda m: (m.at, m.movement_id)) if dated else None
        if first is not None and first.at is not None and first.balance_after is not None:
            opening = first.balance_after - first.delta
            statements[key].append((first.at - timedelta(microseconds=1), opening))
    balances: dict[str, Decimal] = {}
    for key in sorted(set(accounts) | set(statements)):
        bal, wrong = _account_balance(accounts.get(key, []), statements.get(key, []))
        balances[key[0]] = balances.get(key[0], Decimal(0)) + bal
        out.discrepancies += [
            Discrepancy(programme=key[0], member=key[1], stated=st, ledger=led, as_of=when)
            for st, led, when in wrong
        ]
    out.balances = dict(sorted(balances.items()))
    out.programmes = sorted(set(balances) | {m.programme for m in act.memberships})
    out.member = bool(out.programmes) or bool(guest is not None and guest.loyalty_ids)

    for c in act.coupons:
        if c.redeemed_at is not None:
            out.redeemed_coupons += 1
            redemptions.append(c.redeemed_at)
        elif c.expired or (c.expires_at is not None and c.expires_at <= now):
            out.expired_coupons += 1
        else:
            out.open_coupons += 1
            if c.expires_at is not None:  # it expires that day: counted again then
                exits.append(c.expires_at.astimezone(tz).date() + timedelta(days=1))
    issued = len(act.coupons)
    if issued:
        out.coupon_redemption_rate = (Decimal(out.redeemed_coupons) / issued).quantize(RATE)
    out.last_redemption = max(redemptions) if redemptions else None

    t = crm.tiers
    stated, since = _stated_tier(act, now, t.programme)
    out.stated_tier = stated
    if t.rules:
        out.rule_tier = rule_tier(
            t,
            spend_12m=agg.spend_12m if agg is not None else Decimal(0),
            visits_12m=agg.visits_12m if agg is not None else 0,
            points_12m=sum(out.earned_12m.values(), Decimal(0)),
        )
    if stated is not None and (t.prefer_stated or out.rule_tier is None):
        out.tier, out.tier_basis = stated, "source"
        out.tier_since = since.astimezone(tz).date() if since is not None else None
    elif out.rule_tier is not None:
        out.tier, out.tier_basis = out.rule_tier, "rule"
    future = [d for d in exits if d > today]
    out.window_exit = min(future) if future else None
    return built(Loyalty, vars(out))


def direction(t: TiersConfig, before: str | None, after: str | None) -> str:
    """upgrade, downgrade, or change (between tiers the configured order does not rank)."""
    rank = t.rank()
    if before is None:
        return "upgrade"
    if after is None:
        return "downgrade"
    if before in rank and after in rank:
        return "upgrade" if rank.index(after) < rank.index(before) else "downgrade"
    return "change"


def main_programme(loy: Loyalty, crm: CrmConfig) -> str | None:
    """The programme `points_balance` means: the configured one, else the first."""
    if crm.tiers.programme:
        return crm.tiers.programme
    return loy.programmes[0] if loy.programmes else None


def view(loy: Loyalty | None, crm: CrmConfig) -> dict[str, Any]:
    """Flat values for the CRM property mapping (names as in `config.crm.VALUES`)."""
    if loy is None:
        return {"is_member": False}
    prog = main_programme(loy, crm)
    return {
        "is_member": loy.member,
        "tier": loy.tier,
        "tier_since": loy.tier_since,
        "points_balance": loy.balances.get(prog) if prog else None,
        "points_by_programme": "; ".join(f"{p} {b}" for p, b in loy.balances.items()) or None,
        "points_earned_12m": loy.earned_12m.get(prog) if prog else None,
        "points_redeemed_12m": loy.redeemed_12m.get(prog) if prog else None,
        "open_coupons": loy.open_coupons,
        "redeemed_coupons": loy.redeemed_coupons,
        "expired_coupons": loy.expired_coupons,
        "coupon_redemption_rate": loy.coupon_redemption_rate,
        "last_redemption": loy.last_redemption,
    }
