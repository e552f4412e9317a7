"""Generated membership programmes for the issue-27 tests: members, points movements,
balance statements and coupons as canonical records, fed through the real process stage."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from guestsync.config.connectors import HubSpotTargetOptions
from guestsync.config.crm import CrmConfig
from guestsync.connectors.hubspot import HubSpotTarget
from guestsync.models import (
    Coupon,
    Entity,
    Guest,
    Membership,
    Order,
    PointsBalance,
    PointsMovement,
    SourceRecord,
)
from guestsync.restaurant import hooks, membership
from guestsync.restaurant.loyalty import Loyalty
from guestsync.store import Store

from .activity_fixtures import NOW


def at(days_ago: float, base: datetime = NOW) -> datetime:
    return base - timedelta(days=days_ago)


def member(no: str, name: str, phone: str, *, tier: str | None = None, **kw: Any) -> SourceRecord:
    return SourceRecord(
        source="app",
        stream="members",
        external_id=f"M{no}",
        entity=Entity.membership,
        guest=Guest(full_name=name, phone=phone),
        membership=Membership(programme="club", member=no, tier=tier, **kw),
    )


def move(mid: str, no: str, kind: str, points: int, days_ago: float, **kw: Any) -> SourceRecord:
    return SourceRecord(
        source=kw.pop("source", "app"),
        stream="points",
        external_id=mid,
        entity=Entity.points,
        guest=Guest(),
        points=PointsMovement(
            programme="club", member=no, kind=kind, points=Decimal(points), at=at(days_ago), **kw
        ),
    )


def statement(no: str, balance: int, days_ago: float) -> SourceRecord:
    return SourceRecord(
        source="app",
        stream="balances",
        external_id=f"B{no}",
        entity=Entity.balance,
        guest=Guest(),
        balance=PointsBalance(
            programme="club", member=no, balance=Decimal(balance), as_of=at(days_ago)
        ),
    )


def coupon(code: str, no: str, campaign: str, **kw: Any) -> SourceRecord:
    return SourceRecord(
        source="app",
        stream="coupons",
        external_id=code,
        entity=Entity.coupon,
        guest=Guest(),
        coupon=Coupon(programme="club", member=no, code=code, campaign=campaign, **kw),
    )


def bill(oid: str, phone: str, total: str, days_ago: float) -> SourceRecord:
    return SourceRecord(
        source="pos",
        stream="orders",
        external_id=oid,
        entity=Entity.order,
        guest=Guest(phone=phone),
        order=Order(venue="taipei", placed_at=at(days_ago), total=Decimal(total), currency="TWD"),
    )


class Clock:
    """A clock a test moves forward."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def hub(
    crm: CrmConfig | None = None, clock: Clock | None = None
) -> tuple[Store, dict[str, HubSpotTarget], hooks.ActivitySettings]:
    store = Store.open(":memory:")
    st = hooks.ActivitySettings(crm=crm or CrmConfig(), clock=clock or Clock())
    hooks.attach(store, st)
    opts = HubSpotTargetOptions(type="hubspot", token="t", base_url="http://hubspot.test")
    return store, {"hubspot": HubSpotTarget("hubspot", opts)}, st


def loyalty_of(store: Store, gid: str) -> Loyalty:
    loy = membership.load(store, gid)
    assert loy is not None, gid
    return loy


def guest_of(store: Store, loyalty_id: str) -> str:
    """The live guest holding a loyalty id."""
    for gid in store.all_guest_ids():
        g = store.get_guest(gid)
        if g is not None and loyalty_id in g.loyalty_ids:
            return gid
    raise AssertionError(f"no guest has {loyalty_id}")


def payload(store: Store, gid: str) -> dict[str, Any]:
    items = [i for i in store.pending_outbox("hubspot", limit=10_000) if i.guest_id == gid]
    assert items, gid
    return items[-1].payload
