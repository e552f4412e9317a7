"""`aggregates.compute` converts a reservation's time to the local day only when it is a
visit or a bill may name it: a bill naming a booking that is not (yet) a visit still
joins that booking's venue and local day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from guestsync.config.crm import CrmConfig
from guestsync.models import OrderChannel, ReservationStatus
from guestsync.restaurant import aggregates
from guestsync.store.activity import GuestActivity, OrderRow, ReservationRow

TPE = ZoneInfo("Asia/Taipei")
TODAY = date(2026, 3, 20)


def _res(ext: str, at: datetime, status: ReservationStatus) -> ReservationRow:
    return ReservationRow("booking", ext, "taipei", at, 2, status)


def test_a_bill_naming_a_confirmed_booking_is_on_its_local_day() -> None:
    # 17:30 UTC on 1 March is 01:30 on 2 March in Taipei; the bill, on 3 March, says R1
    res = _res("R1", datetime(2026, 3, 1, 17, 30, tzinfo=UTC), ReservationStatus.confirmed)
    bill = OrderRow(
        "pos", "O1", "elsewhere", datetime(2026, 3, 3, 4, tzinfo=UTC), OrderChannel.dine_in,
        Decimal(100), "TWD", [], "R1",
    )  # fmt: skip
    act = GuestActivity(reservations=[res], orders=[bill])
    a = aggregates.compute(None, act, today=TODAY, tz=TPE, crm=CrmConfig())
    assert (a.visit_count, a.first_visit, a.covers) == (1, date(2026, 3, 2), 0)
    assert a.reservation_count == 1 and a.no_show_rate is None


def test_bookings_without_bills_count_alike_visited_or_not() -> None:
    at = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)
    statuses = [
        ReservationStatus.confirmed,
        ReservationStatus.no_show,
        ReservationStatus.cancelled,
        ReservationStatus.completed,
    ]
    act = GuestActivity(reservations=[_res(f"R{i}", at, s) for i, s in enumerate(statuses)])
    a = aggregates.compute(None, act, today=TODAY, tz=TPE, crm=CrmConfig())
    assert (a.reservation_count, a.no_show_count, a.cancellation_count) == (4, 1, 1)
    assert a.no_show_rate == Decimal("0.5000") and a.cancellation_rate == Decimal("0.2500")
    assert (a.visit_count, a.first_visit, a.covers) == (1, date(2026, 3, 2), 2)
    assert a.preferred_time_slot == "late_night"  # 01:30 local
