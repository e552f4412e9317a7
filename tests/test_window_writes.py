"""The bulk lane's writes with executemany (store/window.py, store/guests.py): links in
an order of their own (by guest), each time formatted once, they store what the rows
say (the last row of a booking winning); on each backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from guestsync.models import Guest, Reservation, ReservationStatus
from guestsync.store import Store, ts
from guestsync.store.base import stamps

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def test_stamps_format_each_time_as_ts_does():
    stamp = stamps()
    taipei = NOW.astimezone(timezone(timedelta(hours=8)))  # equal to NOW: one instant
    assert stamp(NOW) == stamp(taipei) == ts(NOW)
    assert stamp(NOW + timedelta(microseconds=1)) == ts(NOW + timedelta(microseconds=1))
    assert stamp(None) == stamp(None)  # one "now" for the rows given no time
    # 01:30 happens twice in New York on 2026-11-01: fold=1 is the second, an hour later,
    # yet compares equal to the first (same zone): not taken for it
    ny = ZoneInfo("America/New_York")
    first, second = (datetime(2026, 11, 1, 1, 30, tzinfo=ny, fold=f) for f in (0, 1))
    assert stamp(first) == ts(first) and stamp(second) == ts(second) != ts(first)


def test_bookings_written_the_last_row_of_each_winning(store: Store):
    rows = [
        (
            "site",
            f"B{n}",
            gid,
            Reservation(party_size=n + 1, status=ReservationStatus.confirmed),
            NOW,
        )
        for n, gid in enumerate(["g3", "g1", "g2", "g1"])
    ]
    rows.append(("site", "B0", "g2", Reservation(party_size=9, status="cancelled"), None))
    with store.atomic():
        for g in ("g1", "g2", "g3"):
            store.save_guest(Guest(id=g, full_name=g))
        store.upsert_reservations(rows)
    got = store.conn.execute(
        "SELECT external_id, guest_id, party_size, status, updated_at FROM reservations"
        " ORDER BY external_id"
    ).fetchall()
    assert [r[:4] for r in got] == [
        ("B0", "g2", 9, "cancelled"),
        ("B1", "g1", 2, "confirmed"),
        ("B2", "g2", 3, "confirmed"),
        ("B3", "g1", 4, "confirmed"),
    ]
    assert got[1][4] == ts(NOW) and got[0][4] > ts(NOW)  # B0's last row had no time: now


def test_links_written_by_guest_as_given(store: Store):
    refs = [("site", "bookings", f"B{n}") for n in range(4)]
    with store.atomic():
        for g in ("g1", "g2"):
            store.save_guest(Guest(id=g, full_name=g))
        store.save_links(
            [
                (ref, f"g{c}", f'{{"n":{n}}}', "{}", NOW)
                for n, (ref, c) in enumerate(zip(refs, "2121", strict=True))
            ]
        )
        store.save_links([(refs[0], "g1", "{}", "{}", NOW)])  # moved: the upsert
    links = store.conn.execute(
        "SELECT external_id, guest_id, record, seen_at FROM guest_links ORDER BY external_id"
    ).fetchall()
    assert links == [
        ("B0", "g1", "{}", ts(NOW)),
        ("B1", "g1", '{"n":1}', ts(NOW)),
        ("B2", "g2", '{"n":2}', ts(NOW)),
        ("B3", "g1", '{"n":3}', ts(NOW)),
    ]
