"""Per-guest aggregates: what a restaurant CRM wants to know about a guest.

`compute()` is a pure function of one guest's golden record and all their reservations,
orders and feedback, so "recompute the guests a batch touched" (`refresh()`) gives the
same result as recomputing everyone from scratch, whatever order records arrived in.

Visits. A visit is a completed (or seated) reservation or a dine-in order. A reservation
and its bill are one visit, not two: an order whose `reservation_id` names one of the
guest's reservations belongs to that reservation's visit; otherwise orders and
reservations on the same venue and local day are the same visit. Days are local days in
`defaults.timezone`.

Rates. no_show_rate = no-shows / reservations that were due (completed, seated, no-show);
cancellation_rate = cancellations / all reservations. Both are fractions (0.25 = 25 %).
Spend is per currency (Decimal; orders without one count in `crm.currency`); the average
is per order with a total.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from ..config.crm import CrmConfig
from ..config.loyalty import WINDOW_DAYS
from ..models import Guest, OrderChannel, ReservationStatus, built
from ..store.activity import GuestActivity
from ..store.protocols import RestaurantStore
from . import consent
from .segments import segment_for

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Local start hour of each slot; a visit belongs to the last slot that started before it.
TIME_SLOTS = ((0, "late_night"), (6, "breakfast"), (11, "lunch"), (15, "afternoon"),
              (17, "dinner"), (22, "late_night"))  # fmt: skip
_SLOTS = tuple(dict.fromkeys(s for _, s in TIME_SLOTS))  # each slot once, in the day's order
_VISITED = {ReservationStatus.completed, ReservationStatus.seated}
_DUE = _VISITED | {ReservationStatus.no_show}
_NO_SHOW, _CANCELLED = ReservationStatus.no_show, ReservationStatus.cancelled  # read once
_WINDOW = timedelta(days=WINDOW_DAYS - 1)  # today - _WINDOW: the 12-month window's start
CENT = Decimal("0.01")
RATE = Decimal("0.0001")


class Aggregates(BaseModel):
    first_visit: date | None = None
    last_visit: date | None = None
    first_activity: date | None = None  # any visit or order: for RFM recency
    last_activity: date | None = None
    visit_count: int = 0
    covers: int = 0
    order_count: int = 0
    offsite_order_count: int = 0  # takeout and delivery
    spend: dict[str, Decimal] = Field(default_factory=dict)
    average_spend: dict[str, Decimal] = Field(default_factory=dict)
    reservation_count: int = 0
    no_show_count: int = 0
    no_show_rate: Decimal | None = None
    cancellation_count: int = 0
    cancellation_rate: Decimal | None = None
    favourite_items: list[str] = Field(default_factory=list)
    preferred_weekday: str | None = None
    preferred_time_slot: str | None = None
    feedback_count: int = 0
    average_rating: Decimal | None = None
    last_rating: Decimal | None = None
    last_feedback: str | None = None
    last_feedback_at: datetime | None = None
    upcoming_birthday: date | None = None
    upcoming_anniversary: date | None = None
    segment: str = "prospect"
    # the last 12 months (config/loyalty.py WINDOW_DAYS), for tiers by rule
    visits_12m: int = 0
    spend_12m: Decimal = Decimal(0)  # in `crm.currency`
    window_exit: date | None = None  # the first day a visit or bill leaves the window


# Every field in the model's order, the dicts and lists (made per guest) left as None
_START = {
    k: f.default if f.default_factory is None else None for k, f in Aggregates.model_fields.items()
}


def next_occurrence(day: date, today: date) -> date:
    """The next anniversary of `day` on or after `today` (29 Feb -> 28 Feb off leap years)."""
    for year in (today.year, today.year + 1):
        try:
            occ = day.replace(year=year)
        except ValueError:
            occ = date(year, 2, 28)
        if occ >= today:
            return occ
    raise AssertionError("unreachable")


def _upcoming(day: date | None, today: date, days: int) -> date | None:
    if day is None:
        return None
    occ = next_occurrence(day, today)
    return occ if (occ - today).days <= days else None


def _slot(t: datetime) -> str:
    name = TIME_SLOTS[0][1]
    for hour, slot in TIME_SLOTS:
        if t.hour >= hour:
            name = slot
    return name


def _mode(values: list[str], order: tuple[str, ...]) -> str | None:
    """Most frequent; a tie goes to the earliest in `order` (so results are stable)."""
    if not values:
        return None
    counts = Counter(values)
    return max(order, key=lambda v: (counts.get(v, 0), -order.index(v)))


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(RATE, ROUND_HALF_UP) if whole else None


def compute(
    guest: Guest | None, act: GuestActivity, *, today: date, tz: ZoneInfo, crm: CrmConfig
) -> Aggregates:
    # Plain attributes while counting (pydantic attribute access is slow); one model at the end.
    a = SimpleNamespace(**_START)
    a.spend, a.average_spend, a.favourite_items = {}, {}, []
    visits: dict[tuple[str, date], datetime] = {}  # (venue, local day) -> earliest local time
    covers: dict[tuple[str, date], int] = {}
    by_ext: dict[str, tuple[str, date]] = {}
    activity_days: list[date] = []

    def visit(key: tuple[str, date], when: datetime, party: int | None) -> None:
        visits[key] = min(visits.get(key, when), when)
        covers[key] = max(covers.get(key, 0), party or 0)

    # A reservation's local day matters for a visit, or for a bill naming it (by_ext):
    # with no orders, a booking not visited needs no time zone conversion (the status of
    # every row of a booking export with upcoming bookings: ~15% of compute, 50k rows).
    keyed = bool(act.orders)
    due = 0
    for r in act.reservations:
        a.reservation_count += 1
        status = r.status
        a.no_show_count += status is _NO_SHOW
        a.cancellation_count += status is _CANCELLED
        due += status in _DUE
        if r.start_at is None:
            continue
        visited = status in _VISITED
        if not (visited or keyed):
            continue
        local = r.start_at.astimezone(tz)
        key = (r.venue or "", local.date())
        by_ext[r.external_id] = key
        if visited:
            visit(key, local, r.party_size)
    a.no_show_rate = _rate(a.no_show_count, due)
    a.cancellation_rate = _rate(a.cancellation_count, a.reservation_count)

    window_start = today - _WINDOW
    in_window: list[date] = []  # days of the window's visits and bills
    totals: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    items: dict[str, Decimal] = {}
    spelling: dict[str, str] = {}
    for o in act.orders:
        a.order_count += 1
        if o.total is not None:
            cur = (o.currency or crm.currency).upper()
            totals[cur] = totals.get(cur, Decimal(0)) + o.total
            counts[cur] = counts.get(cur, 0) + 1
        for it in o.items:
            k = " ".join(it.name.split()).casefold()
            if not k:
                continue
            items[k] = items.get(k, Decimal(0)) + it.quantity
            spelling[k] = min(spelling.get(k, it.name.strip()), it.name.strip())
        if o.placed_at is None:
            continue
        local = o.placed_at.astimezone(tz)
        if o.total is not None and local.date() >= window_start:
            in_window.append(local.date())
            if (o.currency or crm.currency).upper() == crm.currency:
                a.spend_12m += o.total
        if o.channel is OrderChannel.dine_in:
            key = by_ext.get(o.reservation_id or "") or (o.venue or "", local.date())
            visit(key, local, None)
        else:
            a.offsite_order_count += 1
            activity_days.append(local.date())
    a.spend = {c: v for c, v in sorted(totals.items())}
    a.average_spend = {c: (v / counts[c]).quantize(CENT, ROUND_HALF_UP) for c, v in a.spend.items()}
    a.favourite_items = [
        spelling[k] for k, _ in sorted(items.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    ]

    a.visit_count = len(visits)
    window_visits = [d for _, d in visits if d >= window_start]
    a.visits_12m = len(window_visits)
    if in_window or window_visits:
        a.window_exit = min(in_window + window_visits) + timedelta(days=WINDOW_DAYS)
    a.covers = sum(covers.values())
    if visits:
        days = sorted(k[1] for k in visits)
        a.first_visit, a.last_visit = days[0], days[-1]
        activity_days += days
        a.preferred_weekday = _mode([WEEKDAYS[t.weekday()] for t in visits.values()], WEEKDAYS)
        a.preferred_time_slot = _mode([_slot(t) for t in visits.values()], _SLOTS)
    if activity_days:
        a.first_activity, a.last_activity = min(activity_days), max(activity_days)

    rated = [f.rating for f in act.feedback if f.rating is not None]
    a.feedback_count = len(act.feedback)
    if rated:
        a.average_rating = (sum(rated, Decimal(0)) / len(rated)).quantize(CENT, ROUND_HALF_UP)
    if act.feedback:
        epoch = datetime.min.replace(tzinfo=tz)
        last = max(act.feedback, key=lambda f: (f.at or epoch, f.comment or ""))
        a.last_rating, a.last_feedback, a.last_feedback_at = last.rating, last.comment, last.at

    if guest is not None:
        a.upcoming_birthday = _upcoming(guest.birthday, today, crm.upcoming_days)
        a.upcoming_anniversary = _upcoming(guest.anniversary, today, crm.upcoming_days)
    a.segment = segment_for(
        frequency=a.visit_count + a.offsite_order_count,
        first_activity=a.first_activity,
        last_activity=a.last_activity,
        spend=a.spend.get(crm.currency, Decimal(0)),
        today=today,
        t=crm.segments,
    )
    return built(Aggregates, vars(a))


def recheck_on(a: Aggregates, guest: Guest | None, *, today: date, crm: CrmConfig) -> date | None:
    """The first day after `today` on which `compute()` could answer differently with no
    new record: a segment threshold is crossed, or a birthday/anniversary enters or leaves
    the "upcoming" window. None: never (until a record arrives)."""
    t = crm.segments
    days: list[date] = []
    if a.last_activity is not None:
        days += [a.last_activity + timedelta(days=n + 1) for n in (t.at_risk_days, t.lapsed_days)]
    if a.first_activity is not None:
        days.append(a.first_activity + timedelta(days=t.new_days + 1))
    for day in (guest.birthday, guest.anniversary) if guest is not None else ():
        if day is None:
            continue
        occ = next_occurrence(day, today)
        days += [occ - timedelta(days=crm.upcoming_days), occ + timedelta(days=1)]
    if a.window_exit is not None and crm.tiers.rules:  # a tier may change that day
        days.append(a.window_exit)
    future = [d for d in days if d > today]
    return min(future) if future else None


def refresh(
    store: RestaurantStore,
    guest_ids: set[str],
    *,
    today: date,
    tz: ZoneInfo,
    crm: CrmConfig,
    stamp: str = "",
    goldens: Mapping[str, Guest] | None = None,
) -> dict[str, Aggregates]:
    """Recompute and save the aggregates of `guest_ids` (the guests a batch touched).
    `goldens`: their live golden records, when the caller has just saved them."""
    out = {}
    ids = sorted(guest_ids)
    # merged away: counted in its keeper
    guests = store.live_guests(ids) if goldens is None else goldens
    acts = store.guest_activities([g for g in ids if g in guests])
    rows = []
    for gid, guest in sorted(guests.items()):
        agg = compute(guest, acts[gid], today=today, tz=tz, crm=crm)
        again = recheck_on(agg, guest, today=today, crm=crm)
        rows.append((gid, agg.model_dump_json(), agg.segment, again))
        out[gid] = agg
    store.save_aggregates_many(rows, stamp=stamp)
    return out


def load(store: RestaurantStore, guest_id: str) -> Aggregates | None:
    data = store.get_aggregates(guest_id)
    return Aggregates.model_validate(data) if data is not None else None


def view(agg: Aggregates | None, crm: CrmConfig) -> dict[str, Any]:
    """Flat values for the CRM property mapping (names as in `crm_properties.VALUES`)."""
    if agg is None:
        return {}
    cur = crm.currency if crm.currency in agg.spend else next(iter(agg.spend), None)
    # its fields as they are (no nested model: model_dump would only copy them); the spend
    # dicts are not values: `spend` goes, `average_spend` is replaced below
    v = dict(agg.__dict__)
    del v["spend"]
    v["total_spend"] = agg.spend.get(cur) if cur else None
    v["average_spend"] = agg.average_spend.get(cur) if cur else None
    v["spend_currency"] = cur
    v["spend_by_currency"] = "; ".join(f"{c} {s}" for c, s in agg.spend.items()) or None
    return v


def summary(store: RestaurantStore, guest_id: str) -> dict[str, str]:
    """Label -> text, for `guestsync guests show`: segment, visits, spend, no-shows,
    favourites, ratings, consent in force. Empty values are left out."""
    agg = load(store, guest_id)
    if agg is None:
        return {}
    said = consent.effective(consent.Statement(*row) for row in store.consent_statements(guest_id))
    was, since = store.segment_history(guest_id)
    segment = agg.segment + (f" since {since[:10]}" if since else "")
    rows: dict[str, Any] = {
        "segment": segment + (f", was {was}" if was else ""),
        "visits": agg.visit_count,
        "first visit": agg.first_visit,
        "last visit": agg.last_visit,
        "covers": agg.covers,
        "orders": agg.order_count,
        "spend": ", ".join(f"{c} {v}" for c, v in agg.spend.items()),
        "average spend": ", ".join(f"{c} {v}" for c, v in agg.average_spend.items()),
        "no-shows": f"{agg.no_show_count} ({_pct(agg.no_show_rate)})",
        "cancellations": f"{agg.cancellation_count} ({_pct(agg.cancellation_rate)})",
        "favourites": ", ".join(agg.favourite_items),
        "usually": " ".join(x for x in (agg.preferred_weekday, agg.preferred_time_slot) if x),
        "average rating": agg.average_rating,
        "last feedback": agg.last_feedback,
        "birthday soon": agg.upcoming_birthday,
        "anniversary soon": agg.upcoming_anniversary,
    }
    for ch, st in sorted(said.items()):
        rows[f"{ch} marketing"] = (
            f"{'opt-in' if st.granted else 'opt-out'} ({st.source}, {st.at:%Y-%m-%d})"
        )
    return {k: str(v) for k, v in rows.items() if v not in (None, "", [])}


def _pct(rate: Decimal | None) -> str:
    return "n/a" if rate is None else f"{(rate * 100).quantize(Decimal('0.1'))} %"
