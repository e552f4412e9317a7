"""The process stage's membership hooks (called from `hooks.py`): store each record's
points movement, balance, membership or coupon; recompute the touched guests' loyalty
figures after their visit aggregates, noting each tier change as a dated event; the
`guests show` section.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..config.crm import CrmConfig
from ..models import Guest, SourceRecord
from ..store import ts
from ..store.loyalty import LoyaltyActivity
from ..store.protocols import RestaurantStore
from . import loyalty
from .aggregates import Aggregates
from .loyalty import Loyalty


def record(store: RestaurantStore, record: SourceRecord, guest_id: str, seen: datetime) -> None:
    part = record.loyalty
    if part is not None:
        store.save_loyalty(
            source=record.source,
            stream=record.stream,
            external_id=record.external_id,
            guest_id=guest_id,
            part=part,
            seen=seen,
        )


def refresh(
    store: RestaurantStore,
    aggs: Mapping[str, Aggregates],
    goldens: Mapping[str, Guest],
    *,
    now: datetime,
    tz: ZoneInfo,
    crm: CrmConfig,
    stamp: str = "",
) -> dict[str, Loyalty]:
    """Recompute and save the loyalty figures of the guests whose visit aggregates were
    just computed (`aggs`: the live ones). A tier that differs from the one saved before
    is a tier event, dated now; `tier_since` is the stated membership's start, else the
    day the tier was first computed."""
    ids = sorted(aggs)
    acts = store.loyalty_activities(ids)
    before = store.loyalty_tiers(ids)
    today = now.astimezone(tz).date()
    out: dict[str, Loyalty] = {}
    rows: list[tuple[str, str, str | None, str | None, bool]] = []
    events: list[tuple[str, str, str | None, str | None, str, str]] = []
    rechecks: list[tuple[str, str]] = []
    # Guests with no loyalty rows (in a booking import, nearly all) have the same figures
    # as each other when their tier inputs agree: computed and serialized once per kind,
    # the model shared (read, never changed: a tier, which gets a per-guest `tier_since`,
    # is never shared). Loyalty was ~9% of the settle phase's CPU (50k rows, #20).
    alike: dict[tuple[Any, ...], tuple[Loyalty, str]] = {}
    rules = bool(crm.tiers.rules)
    for gid in ids:
        guest, act, agg = goldens.get(gid), acts[gid], aggs[gid]
        was, was_since = before.get(gid, (None, None))
        key = _alike(guest, act, agg, rules)
        if key is not None and (hit := alike.get(key)) is not None:
            loy, data = hit
        else:
            loy = loyalty.compute(guest, act, agg, now=now, tz=tz, crm=crm)
            if loy.tier is not None and loy.tier_since is None:
                loy.tier_since = (
                    date.fromisoformat(was_since) if loy.tier == was and was_since else today
                )
            data = loy.model_dump_json()
            if key is not None and loy.tier is None:
                alike[key] = (loy, data)
        if loy.tier != was:
            direction = loyalty.direction(crm.tiers, was, loy.tier)
            events.append((gid, ts(now), was, loy.tier, direction, loy.tier_basis or "rule"))
        rows.append(
            (
                gid,
                data,
                loy.tier,
                loy.tier_since.isoformat() if loy.tier_since else None,
                loy.member,
            )
        )
        if loy.window_exit is not None:
            rechecks.append((gid, loy.window_exit.isoformat()))
        out[gid] = loy
    store.save_loyalty_aggregates(rows, stamp)
    store.add_tier_events(events)
    store.recheck_no_later_than(rechecks)
    return out


def _alike(
    guest: Guest | None, act: LoyaltyActivity, agg: Aggregates, rules: bool
) -> tuple[Any, ...] | None:
    """What `loyalty.compute` reads of a guest with no loyalty rows (its figures then
    depend on nothing else); None for a guest with some."""
    if act.movements or act.balances or act.memberships or act.coupons:
        return None
    member = guest is not None and bool(guest.loyalty_ids)
    return (member, agg.spend_12m, agg.visits_12m) if rules else (member,)


def load(store: RestaurantStore, guest_id: str) -> Loyalty | None:
    data = store.get_loyalty_aggregates(guest_id)
    return Loyalty.model_validate(data) if data is not None else None


def summary(store: RestaurantStore, guest_id: str) -> dict[str, str]:
    """Label -> text, for `guestsync guests show`: tier (and its changes), balances,
    points in the last 12 months, coupons, and any balance that disagrees with the
    ledger. Empty for a guest in no programme and with no tier."""
    loy = load(store, guest_id)
    if loy is None or not (loy.member or loy.tier):
        return {}
    rows: dict[str, Any] = {
        "tier": (f"{loy.tier} ({loy.tier_basis}) since {loy.tier_since}" if loy.tier else None),
        "stated tier": loy.stated_tier if loy.stated_tier != loy.tier else None,
        "tier by rule": loy.rule_tier if loy.rule_tier != loy.tier else None,
        "points": ", ".join(f"{p} {b}" for p, b in loy.balances.items()),
        "earned 12 months": ", ".join(f"{p} {b}" for p, b in loy.earned_12m.items()),
        "redeemed 12 months": ", ".join(f"{p} {b}" for p, b in loy.redeemed_12m.items()),
        "coupons": (
            f"{loy.open_coupons} open, {loy.redeemed_coupons} redeemed,"
            f" {loy.expired_coupons} expired"
            if loy.open_coupons + loy.redeemed_coupons + loy.expired_coupons
            else None
        ),
        "last redemption": f"{loy.last_redemption:%Y-%m-%d}" if loy.last_redemption else None,
    }
    for d in loy.discrepancies:
        rows[f"balance check {d.programme}:{d.member}"] = (
            f"stated {d.stated} on {d.as_of:%Y-%m-%d}, ledger {d.ledger}"
            f" (differs by {d.stated - d.ledger})"
        )
    for n, e in enumerate(store.tier_events(guest_id), 1):
        rows[f"tier change {n}"] = (
            f"{e['at'][:10]} {e['direction']}: {e['from'] or '-'} -> {e['to'] or '-'}"
            f" ({e['basis']})"
        )
    return {k: str(v) for k, v in rows.items() if v not in (None, "", [])}
