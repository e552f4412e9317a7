"""Aggregates on a hand-computed guest, and incremental == full recomputation."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from guestsync.config.crm import CrmConfig
from guestsync.models import (
    Entity,
    Feedback,
    Guest,
    Order,
    OrderItem,
    Reservation,
    SourceRecord,
)
from guestsync.process import outbox
from guestsync.restaurant import aggregates
from guestsync.store import Store

from .activity_fixtures import NOW, feed

TPE = ZoneInfo("Asia/Taipei")
AMY = {"full_name": "Amy Lin", "email": "amy@example.com"}


def _at(day: str, hm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hm}:00+08:00")


def _res(ext: str, day: str, hm: str, status: str, party: int) -> SourceRecord:
    return SourceRecord(
        source="booking",
        stream="bookings",
        external_id=ext,
        entity=Entity.reservation,
        guest=Guest(**AMY, birthday=date(1990, 3, 25), anniversary=date(2015, 6, 1)),
        reservation=Reservation(
            venue="taipei", start_at=_at(day, hm), party_size=party, status=status
        ),
    )


def _order(ext: str, day: str, hm: str, total: str, **kw) -> SourceRecord:
    items = [OrderItem(name=n, quantity=Decimal(q)) for n, q in kw.pop("items", [])]
    return SourceRecord(
        source="pos",
        stream="orders",
        external_id=ext,
        entity=Entity.order,
        guest=Guest(email="AMY@example.com".lower(), phone="+886912000111"),
        order=Order(
            placed_at=_at(day, hm),
            total=Decimal(total),
            items=items,
            **{"venue": "taipei", "currency": "TWD", **kw},
        ),
    )


def _feedback(ext: str, day: str, rating: str, comment: str) -> SourceRecord:
    return SourceRecord(
        source="survey",
        stream="answers",
        external_id=ext,
        entity=Entity.feedback,
        guest=Guest(email="amy@example.com"),
        feedback=Feedback(rating=Decimal(rating), comment=comment, at=_at(day, "22:00")),
    )


AMY_RECORDS = [
    _res("R1", "2026-03-01", "19:00", "completed", 4),
    # Her bill for R1, linked by reservation id: the same visit.
    _order(
        "O1",
        "2026-03-01",
        "21:10",
        "3200",
        reservation_id="R1",
        items=[("Seafood set", "2"), ("Beer", "3")],
    ),
    _res("R2", "2026-03-08", "19:00", "no_show", 2),
    _res("R3", "2026-03-10", "12:00", "cancelled", 2),
    _res("R4", "2026-02-14", "12:30", "completed", 2),
    # A bill on the same day and venue as R4, no reservation id: still the same visit.
    _order("O2", "2026-02-14", "13:45", "1800", items=[("seafood  SET", "1"), ("Tea", "1")]),
    _order("O3", "2026-03-15", "18:00", "600", channel="takeout", items=[("Dumplings", "1")]),
    # A walk-in at another venue, paid in HKD: a visit of its own.
    _order("O4", "2026-03-18", "12:00", "500", venue="taichung", currency="HKD"),
    _feedback("F1", "2026-03-02", "4", "Great seafood"),
    _feedback("F2", "2026-03-19", "5", "Lovely lunch"),
]


def test_aggregates_of_a_hand_computed_guest():
    store = Store.open(":memory:")
    stats = feed(store, AMY_RECORDS)
    assert stats.processed == 10 and stats.rejected == 0
    (gid,) = store.all_guest_ids()  # booking, POS and survey records are one guest
    a = aggregates.load(store, gid)
    assert a is not None
    assert a.visit_count == 3  # 14 Feb (R4+O2), 1 Mar (R1+O1), 18 Mar (O4)
    assert (a.first_visit, a.last_visit) == (date(2026, 2, 14), date(2026, 3, 18))
    assert a.covers == 6  # 2 + 4; the walk-in bill says nothing about covers
    assert a.order_count == 4 and a.offsite_order_count == 1
    assert a.spend == {"HKD": Decimal("500"), "TWD": Decimal("5600")}
    assert a.average_spend == {"HKD": Decimal("500.00"), "TWD": Decimal("1866.67")}
    assert (a.reservation_count, a.no_show_count, a.cancellation_count) == (4, 1, 1)
    assert a.no_show_rate == Decimal("0.3333")  # 1 of 3 due (2 completed + 1 no-show)
    assert a.cancellation_rate == Decimal("0.2500")  # 1 of 4
    assert a.favourite_items == ["Beer", "Seafood set", "Dumplings"]  # 3, 3 (tie by name), 1
    assert a.preferred_weekday == "wednesday"  # Sat, Sun, Wed: a tie, earliest in the week
    assert a.preferred_time_slot == "lunch"  # 12:30, 19:00, 12:00
    assert a.average_rating == Decimal("4.50")
    assert (a.last_rating, a.last_feedback) == (Decimal("5"), "Lovely lunch")
    assert a.upcoming_birthday == date(2026, 3, 25)  # within 14 days of 20 Mar
    assert a.upcoming_anniversary is None
    assert (a.first_activity, a.last_activity) == (date(2026, 2, 14), date(2026, 3, 18))
    assert a.segment == "regular"  # 3 visits + 1 takeout, seen 2 days ago, first 34 days ago
    summary = aggregates.summary(store, gid)
    assert summary["visits"] == "3" and summary["no-shows"] == "1 (33.3 %)"


def test_a_resent_bill_is_replaced_not_added():
    store = Store.open(":memory:")
    feed(store, AMY_RECORDS)
    feed(store, [_order("O3", "2026-03-15", "18:00", "900", channel="takeout")])
    (gid,) = store.all_guest_ids()
    a = aggregates.load(store, gid)
    assert a is not None and a.spend["TWD"] == Decimal("5900") and a.order_count == 4
    assert "Dumplings" not in a.favourite_items  # the re-sent bill has no items


def test_next_occurrence_of_29_february():
    assert aggregates.next_occurrence(date(2000, 2, 29), date(2026, 2, 1)) == date(2026, 2, 28)
    assert aggregates.next_occurrence(date(2000, 1, 5), date(2026, 3, 1)) == date(2027, 1, 5)


# -- incremental recomputation equals a full one ---------------------------------------

EMAILS = [f"g{i}@example.com" for i in range(4)]
DAYS = [NOW.date() - timedelta(days=d) for d in (0, 3, 20, 45, 90, 200, 400)]


@st.composite
def records(draw) -> SourceRecord:
    email = draw(st.sampled_from(EMAILS))
    kind = draw(st.sampled_from(["res", "order", "feedback"]))
    ext = f"{kind}-{draw(st.integers(0, 8))}"  # a small pool: later records update earlier
    day = draw(st.sampled_from(DAYS)).isoformat()
    hm = draw(st.sampled_from(["08:00", "12:30", "19:00", "23:30"]))
    venue = draw(st.sampled_from(["taipei", "taichung"]))
    birthday = draw(st.sampled_from([None, date(1990, 4, 2), date(1988, 2, 29)]))
    guest = Guest(email=email, birthday=birthday)
    if kind == "res":
        status = draw(st.sampled_from(["confirmed", "completed", "no_show", "cancelled"]))
        return SourceRecord(
            source="booking",
            stream="b",
            external_id=ext,
            entity=Entity.reservation,
            guest=guest,
            reservation=Reservation(
                venue=venue,
                start_at=_at(day, hm),
                party_size=draw(st.integers(1, 6)),
                status=status,
            ),
        )
    if kind == "order":
        return SourceRecord(
            source="pos",
            stream="o",
            external_id=ext,
            entity=Entity.order,
            guest=guest,
            order=Order(
                venue=venue,
                placed_at=_at(day, hm),
                channel=draw(st.sampled_from(["dine_in", "takeout"])),
                total=Decimal(draw(st.integers(0, 5000))),
                currency=draw(st.sampled_from(["TWD", "HKD", None])),
                items=[
                    OrderItem(name=n)
                    for n in draw(
                        st.lists(st.sampled_from(["Tea", "Beer", "Rice", "Fish"]), max_size=3)
                    )
                ],
                reservation_id=draw(st.sampled_from([None, "res-1", "res-2"])),
            ),
        )
    return SourceRecord(
        source="survey",
        stream="f",
        external_id=ext,
        entity=Entity.feedback,
        guest=guest,
        feedback=Feedback(rating=Decimal(draw(st.integers(1, 5))), at=_at(day, hm)),
    )


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), min_size=1, max_size=30), st.integers(1, 7))
def test_incremental_recomputation_equals_full_recomputation(recs, batch_size):
    store = Store.open(":memory:")
    for i in range(0, len(recs), batch_size):  # one feed per batch, as syncs would come
        feed(store, recs[i : i + batch_size], batch_size=batch_size)
    incremental = store.all_aggregates()
    full = aggregates.refresh(
        store,
        set(store.all_guest_ids()),
        today=NOW.astimezone(TPE).date(),
        tz=TPE,
        crm=CrmConfig(),
    )
    assert {g: a.model_dump(mode="json") for g, a in full.items()} == incremental


def test_recheck_on_is_the_first_day_the_answer_can_change():
    store = Store.open(":memory:")
    feed(store, AMY_RECORDS)
    (gid,) = store.all_guest_ids()
    guest, act, crm = store.get_guest(gid), store.guest_activity(gid), CrmConfig()
    today = date(2026, 3, 20)
    a = aggregates.compute(guest, act, today=today, tz=TPE, crm=crm)
    # Birthday 25 Mar leaves the window on the 26th; at_risk would come on 18 May.
    assert aggregates.recheck_on(a, guest, today=today, crm=crm) == date(2026, 3, 26)
    same = aggregates.compute(guest, act, today=date(2026, 3, 25), tz=TPE, crm=crm)
    assert same == a
    later = aggregates.compute(guest, act, today=date(2026, 3, 26), tz=TPE, crm=crm)
    assert later.upcoming_birthday is None


@hsettings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(records(), min_size=1, max_size=20),
    st.lists(st.integers(1, 120), min_size=1, max_size=4),
)
def test_daily_refresh_of_due_guests_equals_recomputing_everyone(recs, steps):

    from .activity_fixtures import settings

    store = Store.open(":memory:")
    feed(store, recs)
    outbox.refresh_all(store, {}, settings())  # from here on only due guests are redone
    day = NOW
    for step in steps:  # days pass with no new record
        day += timedelta(days=step)
        s = settings()
        s.clock = lambda d=day: d
        outbox.daily_refresh(store, {}, s)
        assert store.get_meta("aggregates_day") == s.today().isoformat()
        daily = store.all_aggregates()
        full = aggregates.refresh(
            store, set(store.all_guest_ids()), today=s.today(), tz=TPE, crm=CrmConfig()
        )
        assert {g: a.model_dump(mode="json") for g, a in full.items()} == daily
