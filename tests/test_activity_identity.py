"""Aggregates, segments and consent across identity merges (issue 8 x issue 4): an
automatic merge, a manual `guests merge` and an `unmerge` re-home the activity, both
guests are recomputed and re-queued, and a guest merged away is never counted."""

from __future__ import annotations

import contextlib
from datetime import datetime
from decimal import Decimal

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from guestsync.actions import guests as guest_admin
from guestsync.actions import report
from guestsync.actions.forget import forget
from guestsync.config.connectors import HubSpotTargetOptions
from guestsync.connectors.hubspot import HubSpotTarget
from guestsync.models import (
    Consent,
    Entity,
    Feedback,
    Guest,
    Order,
    Reservation,
    SourceRecord,
)
from guestsync.process.resolve import IdentityError
from guestsync.restaurant import aggregates, hooks
from guestsync.store import Store

from .activity_fixtures import NOW, feed, settings


def _at(day: str, hm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hm}:00+08:00")


BOOKING = SourceRecord(
    source="booking",
    stream="bookings",
    external_id="BR1",
    entity=Entity.reservation,
    guest=Guest(
        full_name="Bob Wu",
        email="bob@example.com",
        email_consent=Consent(granted=False, at=_at("2026-03-05", "10:00")),
    ),
    reservation=Reservation(
        venue="taipei", start_at=_at("2026-03-01", "19:00"), party_size=2, status="completed"
    ),
)
# The POS knows Bob only by phone, and his opt-in came through its web form.
BILL = SourceRecord(
    source="pos",
    stream="orders",
    external_id="BO1",
    entity=Entity.order,
    guest=Guest(
        phone="+886933000111",
        marketing_consent=Consent(granted=True, at=_at("2026-03-10", "10:00"), source="web form"),
    ),
    order=Order(
        venue="taipei", placed_at=_at("2026-03-12", "12:00"), total=Decimal("900"), currency="TWD"
    ),
)
BRIDGE = SourceRecord(
    source="loyalty",
    stream="members",
    external_id="L1",
    entity=Entity.guest,
    guest=Guest(full_name="Bob Wu", email="bob@example.com", phone="+886933000111"),
)


def _hub() -> tuple[Store, dict]:
    store = Store.open(":memory:")
    st = settings()
    hooks.attach(store, st)  # as the Hub does: merges by hand project the same payload
    opts = HubSpotTargetOptions(type="hubspot", token="t", base_url="http://hubspot.test")
    targets = {"hubspot": HubSpotTarget("hubspot", opts)}
    feed(store, [BOOKING, BILL], targets=targets, activity=st)
    assert len(store.all_guest_ids()) == 2  # nothing links an email to a phone yet
    return store, targets


def _by_source(store: Store) -> tuple[str, str]:
    ids = store.all_guest_ids()
    booking = next(g for g in ids if store.get_guest(g).email)  # type: ignore[union-attr]
    return booking, next(g for g in ids if g != booking)


def _agg(store: Store, gid: str) -> aggregates.Aggregates:
    a = aggregates.load(store, gid)
    assert a is not None, gid
    return a


def _consent(store: Store, gid: str) -> dict[str, tuple[bool, str | None]]:
    return {ch: (s.granted, s.source) for ch, s in hooks.consent_state(store, gid).items()}


def _payload(store: Store, gid: str) -> dict:
    items = [i for i in store.pending_outbox("hubspot", limit=100) if i.guest_id == gid]
    assert items, gid
    return items[-1].payload


def test_an_automatic_merge_adds_up_both_guests_activity():
    store, targets = _hub()
    bob, pos = _by_source(store)
    feed(store, [BRIDGE], targets=targets, activity=settings())
    assert store.all_guest_ids() == [bob] and store.merged_into(pos) == bob
    a = _agg(store, bob)
    assert (a.visit_count, a.covers, a.spend) == (2, 2, {"TWD": Decimal("900")})
    assert aggregates.load(store, pos) is None  # the guest merged away keeps none
    # The POS opt-in (10 Mar) is newer than the booking opt-out (5 Mar): in force.
    assert _consent(store, bob) == {"email": (True, "web form"), "sms": (True, "web form")}
    p = _payload(store, bob)
    assert p["gs_visit_count"] == "2" and p["gs_total_spend"] == "900"
    rep = report.build(store, now=NOW, tz=settings().tz)
    assert rep.totals["guests"] == 1 and rep.totals["visits"] == 2
    assert sum(rep.segments.values()) == 1


def test_a_manual_merge_then_unmerge_rehomes_activity_and_consent():
    store, targets = _hub()
    bob, pos = _by_source(store)
    admin = guest_admin.Admin(store, targets)
    touched, queued = admin.merge(bob, pos)
    assert touched == {bob} and queued == 1
    a = _agg(store, bob)
    assert (a.visit_count, a.order_count, a.spend) == (2, 1, {"TWD": Decimal("900")})
    assert _consent(store, bob)["email"] == (True, "web form")
    assert _payload(store, bob)["gs_visit_count"] == "2"
    assert aggregates.load(store, pos) is None
    rep = report.build(store, now=NOW, tz=settings().tz)
    assert rep.totals["guests"] == 1 and rep.totals["visits"] == 2

    touched, queued = admin.unmerge(bob, "pos:BO1")
    assert touched == {bob, pos} and queued == 2
    a, b = _agg(store, bob), _agg(store, pos)
    assert (a.visit_count, a.order_count, a.spend) == (1, 0, {})
    assert (b.visit_count, b.order_count, b.spend) == (1, 1, {"TWD": Decimal("900")})
    # Each guest has its own statements back: Bob's opt-out, the POS guest's opt-in.
    assert _consent(store, bob) == {"email": (False, "booking")}
    assert _consent(store, pos) == {"email": (True, "web form"), "sms": (True, "web form")}
    assert _payload(store, bob)["gs_visit_count"] == "1"
    assert _payload(store, pos)["gs_total_spend"] == "900"
    rep = report.build(store, now=NOW, tz=settings().tz)
    assert rep.totals["guests"] == 2 and rep.totals["visits"] == 2


def test_guests_show_has_segment_visits_and_consent():
    store, _ = _hub()
    bob, _pos = _by_source(store)
    shown = guest_admin.profile(store, bob)["activity"]
    seg = _agg(store, bob).segment
    assert shown["segment"].startswith(f"{seg} since 20") and "was" not in shown["segment"]
    assert shown["visits"] == "1" and shown["email marketing"].startswith("opt-out (booking")
    # A segment change shows what it was; a recomputation that keeps it changes nothing.
    data = _agg(store, bob).model_dump(mode="json")
    store.save_aggregates(bob, data | {"segment": "vip"}, "vip")
    store.save_aggregates(bob, data | {"segment": "vip"}, "vip")
    assert guest_admin.profile(store, bob)["activity"]["segment"].endswith(f", was {seg}")
    assert store.segment_history(bob)[0] == seg


def test_forget_by_a_merged_away_id_forgets_the_whole_person():
    store, targets = _hub()
    bob, pos = _by_source(store)
    feed(store, [BRIDGE], targets=targets, activity=settings())
    assert store.merged_into(pos) == bob
    result = forget(store, {}, guest_id=pos)  # the id the POS guest once had
    assert set(result.guest_ids) == {bob, pos}
    for trace in ("bob@example.com", "+886933000111", "Bob Wu"):
        assert store.rows_mentioning(trace) == {}, trace
    for gone in (bob, pos):  # only the request log names the id asked for
        assert set(store.rows_mentioning(gone)) <= {"forget_log"}, gone
    assert store.all_guest_ids() == []


def test_a_record_its_source_removed_stops_counting_and_a_restore_counts_it_again():
    store, targets = _hub()
    _bob, pos = _by_source(store)
    assert _agg(store, pos).spend == {"TWD": Decimal("900")}
    assert report.build(store, now=NOW, tz=settings().tz).no_shows == {"booking": (0, 1)}
    feed(store, [BILL.model_copy(update={"deleted": True})], targets=targets)  # voided
    feed(store, [BOOKING.model_copy(update={"deleted": True})], targets=targets)
    assert report.build(store, now=NOW, tz=settings().tz).no_shows == {}
    a = _agg(store, pos)
    assert (a.order_count, a.visit_count, a.spend) == (0, 0, {})
    assert _payload(store, pos)["gs_total_spend"] == ""  # cleared in the CRM
    assert _consent(store, pos)["email"] == (True, "web form")  # what they said still holds
    restored = BILL.model_copy(update={"updated_at": _at("2026-03-19", "09:00")})
    assert feed(store, [restored], targets=targets).processed == 1
    assert _agg(store, pos).spend == {"TWD": Decimal("900")}


def test_a_guest_merged_away_gets_no_aggregates_even_when_asked_for():
    store, targets = _hub()
    bob, pos = _by_source(store)
    feed(store, [BRIDGE], targets=targets, activity=settings())
    st = settings()
    out = aggregates.refresh(store, {bob, pos}, today=st.today(), tz=st.tz, crm=st.crm)
    assert set(out) == {bob} and aggregates.load(store, pos) is None


EMAILS = ["ann@example.com", "ben@example.com", None]
PHONES = ["+886912000001", "+886912000002", None]


@st.composite
def person_record(draw) -> SourceRecord:
    """A booking, bill or survey answer by one of a few people, known by email, phone or
    both (a record with both bridges two guests: an automatic merge), maybe with consent."""
    email, phone = draw(st.sampled_from(EMAILS)), draw(st.sampled_from(PHONES))
    if email is None and phone is None:
        email = EMAILS[0]
    consent = draw(st.sampled_from([None, True, False]))
    guest = Guest(
        email=email,
        phone=phone,
        marketing_consent=None
        if consent is None
        else Consent(granted=consent, at=_at("2026-03-0" + draw(st.sampled_from("1234")), "10:00")),
    )
    kind = draw(st.sampled_from(["booking", "pos", "survey"]))
    ext = f"{kind}-{draw(st.integers(0, 5))}"
    day = draw(st.sampled_from(["2026-02-01", "2026-03-01", "2026-03-15"]))
    if kind == "booking":
        return SourceRecord(
            source=kind, stream="b", external_id=ext, entity=Entity.reservation, guest=guest,
            reservation=Reservation(
                venue="taipei", start_at=_at(day, "19:00"), party_size=2,
                status=draw(st.sampled_from(["completed", "no_show", "cancelled"])),
            ),
        )  # fmt: skip
    if kind == "pos":
        return SourceRecord(
            source=kind, stream="o", external_id=ext, entity=Entity.order, guest=guest,
            order=Order(venue="taipei", placed_at=_at(day, "20:00"),
                        total=Decimal(draw(st.integers(1, 900))), currency="TWD"),
        )  # fmt: skip
    return SourceRecord(
        source=kind, stream="f", external_id=ext, entity=Entity.feedback, guest=guest,
        feedback=Feedback(rating=Decimal(draw(st.integers(1, 5))), at=_at(day, "22:00")),
    )  # fmt: skip


def _invariants(store: Store) -> None:
    # Every booking, bill, answer and consent statement sits with its record's guest.
    same_stream = " AND l.stream = e.stream"
    for table, stream in (
        ("reservations", ""), ("orders", ""), ("feedback", ""), ("consent_events", same_stream)
    ):  # fmt: skip
        wrong = store.conn.execute(
            f"SELECT count(*) FROM {table} e JOIN guest_links l ON l.source = e.source"
            f" AND l.external_id = e.external_id{stream} WHERE l.guest_id != e.guest_id"
        ).fetchone()[0]
        assert wrong == 0, table
    live = set(store.all_guest_ids())
    stored = store.all_aggregates()
    assert set(stored) <= live  # a guest merged away has none
    st_ = settings()
    full = aggregates.refresh(store, live, today=st_.today(), tz=st_.tz, crm=st_.crm)
    assert {g: a.model_dump(mode="json") for g, a in full.items()} == stored
    rep = report.build(store, now=NOW, tz=st_.tz)
    assert rep.totals["guests"] == len(live) == sum(rep.segments.values())
    assert rep.totals["visits"] == sum(a.visit_count for a in full.values())


@hsettings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(person_record(), min_size=2, max_size=14),
    st.lists(
        st.tuples(st.sampled_from(["merge", "unmerge"]), st.integers(0, 99), st.integers(0, 99)),
        max_size=4,
    ),
)
def test_merges_and_unmerges_keep_activity_with_its_records_and_aggregates_exact(recs, ops):
    store = Store.open(":memory:")
    hooks.attach(store, settings())
    half = len(recs) // 2
    feed(store, recs[:half])
    admin = guest_admin.Admin(store, {})
    for op, i, j in ops:
        ids = store.all_guest_ids()
        with contextlib.suppress(IdentityError):
            if op == "merge" and len(ids) > 1:
                admin.merge(ids[i % len(ids)], ids[j % len(ids)])
            elif op == "unmerge":
                gid = ids[i % len(ids)]
                links = sorted(x.ref for x in store.links_of([gid]))
                if links:
                    admin.unmerge(gid, ":".join(links[j % len(links)]))
    feed(store, recs[half:])  # later records land on the merged/unmerged guests
    _invariants(store)
