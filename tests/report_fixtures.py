"""A year of a Taipei restaurant's history, imported all at once today: VIPs, regulars
gone quiet, three guests who came for the first time this month, no-shows, bills in two
currencies (one paid 30 minutes into December, Taipei time, which is still November in
UTC), long names. For the report's tests, in the terminal and in a browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from guestsync.config.crm import CrmConfig
from guestsync.models import Guest, Order, OrderItem, Reservation, ReservationStatus
from guestsync.restaurant import aggregates
from guestsync.store import Store

NOW = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)  # noon in Taipei
TZ = ZoneInfo("Asia/Taipei")
SITE = "taipei_xinyi_flagship_booking_site"  # a long source name, as people write them
POS = "pos_orders"
LONG_DISH = "招牌紅燒牛肉麵（大碗）加滷蛋與酸菜 Signature braised beef noodle soup, large"
LONG_NAME = "Wolfeschlegelsteinhausenbergerdorff Hubert Blaine"
NAMES = ["陳小明", "林美玲", "王大同", "張雅婷", "李志豪", "黃淑芬", "吳建國", "劉怡君", "蔡宗翰"]


def _visit(store: Store, gid: str, n: int, at: datetime, status: str, total: int) -> None:
    store.upsert_reservation(
        source=SITE,
        external_id=f"{gid}-B{n}",
        guest_id=gid,
        reservation=Reservation(
            venue="信義店", start_at=at, party_size=2, status=ReservationStatus(status)
        ),
        updated_at=None,
    )
    if status == "completed":
        store.upsert_order(
            source=POS,
            external_id=f"{gid}-O{n}",
            guest_id=gid,
            order=Order(
                venue="信義店",
                placed_at=at + timedelta(hours=1),
                total=Decimal(total),
                currency="TWD",
                reservation_id=f"{gid}-B{n}",
                items=[
                    OrderItem(name=LONG_DISH if n % 2 else "小籠包", quantity=Decimal(2)),
                    OrderItem(name="烏龍茶", quantity=Decimal(1)),
                ],
            ),
            updated_at=None,
        )


def year_of_history(store: Store) -> dict[str, list[str]]:
    """Fill `store`; returns the guest ids by what they are meant to be."""
    today = NOW.astimezone(TZ).replace(hour=19, minute=0, second=0, microsecond=0)
    kinds: dict[str, list[str]] = {"vip": [], "at_risk": [], "new": [], "regular": []}
    plan = [("vip", 5), ("at_risk", 4), ("new", 3), ("regular", 6)]
    with store.atomic():
        i = 0
        for kind, count in plan:
            for _ in range(count):
                gid = store.new_guest_id()
                name = LONG_NAME if i == 0 else NAMES[i % len(NAMES)] + ("" if i < 9 else str(i))
                store.save_guests([Guest(id=gid, full_name=name, phone=f"+88691200{i:04}")])
                kinds[kind].append(gid)
                if kind == "vip":  # 12 visits, 20 days apart, the last 10 days ago
                    days = [10 + 20 * k for k in range(12)]
                elif kind == "at_risk":  # 3 visits, the last 90 days ago
                    days = [90, 130, 200]
                elif kind == "new":  # first booking this month
                    days = [1 + i % 3]
                else:  # regulars: 4 visits in the last 120 days, one a no-show
                    days = [5 + i, 30 + i, 60 + i, 120]
                for n, back in enumerate(days):
                    status = "no_show" if kind == "regular" and n == 1 else "completed"
                    _visit(store, gid, n, today - timedelta(days=back), status, 1200 + 100 * i)
                i += 1
        # a bill 30 minutes into December in Taipei (still 30 November in UTC), and one
        # in another currency
        gid = kinds["regular"][0]
        store.upsert_order(
            source=POS,
            external_id="midnight",
            guest_id=gid,
            order=Order(
                placed_at=datetime(2026, 12, 1, 0, 30, tzinfo=TZ),
                total=Decimal(999),
                currency="TWD",
            ),
            updated_at=None,
        )
        store.upsert_order(
            source=POS,
            external_id="hk",
            guest_id=gid,
            order=Order(
                placed_at=datetime(2026, 10, 3, 13, 0, tzinfo=TZ),
                total=Decimal(480),
                currency="HKD",
            ),
            updated_at=None,
        )
    every = {g for ids in kinds.values() for g in ids}
    aggregates.refresh(store, every, today=today.date(), tz=TZ, crm=CrmConfig())
    return kinds
