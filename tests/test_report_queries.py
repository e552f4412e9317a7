"""The report's queries cost O(rows): no per-row search of every link of a source, and the
bookings of records their source removed are left out."""

from __future__ import annotations

from datetime import UTC, datetime

from guestsync.models import Guest, Reservation, ReservationStatus
from guestsync.store import Store

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _store() -> Store:
    store = Store.open(":memory:")
    with store.atomic():
        store.save_guest(Guest(id="g1", full_name="Amy"))
        for n, status in enumerate(["no_show", "completed", "no_show", "cancelled"]):
            ref = ("site", "bookings", f"B{n}")
            store.save_links([(ref, "g1", "{}", "{}", NOW)])
            store.upsert_reservation(
                source="site",
                external_id=f"B{n}",
                guest_id="g1",
                reservation=Reservation(status=ReservationStatus(status)),
                updated_at=None,
            )
        store.upsert_reservation(
            source="pos",
            external_id="P1",
            guest_id="g1",
            reservation=Reservation(status=ReservationStatus.no_show),
            updated_at=None,
        )
        store.save_links([(("pos", "bills", "P1"), "g1", "{}", "{}", NOW)])
        for source, stream, x in (("site", "bookings", "B2"), ("pos", "bills", "P1")):
            store.set_link_removed(source=source, stream=stream, external_id=x, removed=True)
    return store


def test_no_shows_leave_out_the_bookings_of_removed_records():
    # site: B0 no-show, B1 completed (B2 removed, B3 not due); pos: its only one removed
    assert _store().no_shows_by_source() == {"site": (1, 2)}


def test_removed_links_are_found_by_their_own_index():
    store = _store()
    plan = store.conn.execute(
        "EXPLAIN QUERY PLAN SELECT 1 FROM orders o WHERE NOT EXISTS (SELECT 1 FROM guest_links x"
        " WHERE x.source = o.source AND x.external_id = o.external_id"
        " AND x.removed_at IS NOT NULL)"
    ).fetchall()
    assert any("guest_links_removed" in row[3] for row in plan), plan
