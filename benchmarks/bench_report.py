"""`guestsync report` time as the bookings grow: 10k vs 100k bookings (target: the larger
at most 12x the time); and, as this run's baseline, the no-show query as it was before
m0024 (a NOT EXISTS per booking, searching every link of its source), at a size small
enough to finish, beside the report at that size.

The store is filled through the store's own operations (guests, their links, one booking
per link, a bill for every other booking, 1% of links removed by their source, each
guest's aggregates with a segment), not through the pipeline: the report's queries are
what is measured, the sections and the HTML page included (new guests by first booking,
spend per month, no-shows by weekday, VIP and at-risk lists). Wall and CPU seconds,
medians of 3.
Usage: bench_report.py [SMALL LARGE]   (default 10000 100000)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from guestsync.actions import report, report_html
from guestsync.models import Guest, Order, OrderItem, Reservation, ReservationStatus
from guestsync.store import Store

NOW = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)
STATUSES = list(ReservationStatus)
SEGMENTS = ("vip", "regular", "new", "at_risk", "lapsed", "one_time")


def fill(store: Store, bookings: int) -> None:
    guests = max(1, bookings // 3)
    ids = [store.new_guest_id() for _ in range(guests)]
    with store.atomic():
        store.save_guests(Guest(id=g, full_name=f"Guest {i}") for i, g in enumerate(ids))
        links = []
        for n in range(bookings):
            gid, source = ids[n % guests], ("site", "pos", "app")[n % 3]
            ref = (source, "bookings", f"B{n}")
            links.append((ref, gid, '{"full_name": "x"}', "{}", NOW))
            store.upsert_reservation(
                source=source,
                external_id=f"B{n}",
                guest_id=gid,
                reservation=Reservation(
                    venue="信義店",
                    start_at=NOW - timedelta(days=n % 365),
                    party_size=1 + n % 6,
                    status=STATUSES[n % len(STATUSES)],
                ),
                updated_at=None,
            )
            if n % 2 == 0:
                store.upsert_order(
                    source="pos",
                    external_id=f"O{n}",
                    guest_id=gid,
                    order=Order(
                        placed_at=NOW - timedelta(days=n % 365, hours=n % 24),
                        total=Decimal(500 + n % 3000),
                        currency="TWD",
                        items=[OrderItem(name=f"dish {n % 40}", quantity=Decimal(1 + n % 3))],
                    ),
                    updated_at=None,
                )
        for i, gid in enumerate(ids):
            data = {
                "visit_count": i % 15,
                "last_visit": str((NOW - timedelta(days=i % 200)).date()),
            }
            store.save_aggregates(gid, data | {"spend": {"TWD": "1200"}}, SEGMENTS[i % 6])
        store.save_links(links)
        for n in range(0, bookings, 100):  # 1% voided by their source
            ref = (("site", "pos", "app")[n % 3], "bookings", f"B{n}")
            store.set_link_removed(source=ref[0], stream=ref[1], external_id=ref[2], removed=True)


def timed(store: Store) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(3):
        w, c = time.perf_counter(), time.process_time()
        rep = report.build(store, now=NOW, tz=ZoneInfo("Asia/Taipei"), lang="zh-TW")
        report_html.html(rep)
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


OLD_NO_SHOWS = (
    "SELECT source, sum(status = 'no_show'), sum(status IN ('completed', 'seated', 'no_show'))"
    " FROM reservations r WHERE NOT EXISTS (SELECT 1 FROM guest_links x WHERE x.source ="
    " r.source AND x.external_id = r.external_id AND x.removed_at IS NOT NULL)"
    " GROUP BY source ORDER BY source"
)


def measure(bookings: int, *, old: bool = False) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "hub.db")
        fill(store, bookings)
        if old:
            store.conn.execute("DROP INDEX guest_links_removed")
            w, c = time.perf_counter(), time.process_time()
            store.conn.execute(OLD_NO_SHOWS).fetchall()
            out = time.perf_counter() - w, time.process_time() - c
        else:
            out = timed(store)
        store.close()
    return out


def main() -> None:
    small, large = (int(a) for a in sys.argv[1:3]) if len(sys.argv) > 2 else (10_000, 100_000)
    before = max(1000, small // 4)
    rows = [
        (f"{before:,} bookings: the no-show query before m0024", measure(before, old=True)),
        (f"{before:,} bookings: the whole report", measure(before)),
        (f"{small:,} bookings", measure(small)),
        (f"{large:,} bookings", measure(large)),
    ]
    for label, (wall, cpu) in rows:
        print(f"  {label:<55} wall {wall:7.3f}s  CPU {cpu:7.3f}s")
    (_, (w0, c0)), (_, (w1, c1)) = rows[0], rows[1]
    print(
        f"at {before:,} bookings the old no-show query alone took {w0 / w1:.0f}x the whole"
        f" report's time (CPU {c0 / c1:.0f}x)"
    )
    (_, (ws, cs)), (_, (wl, cl)) = rows[2], rows[3]
    print(
        f"report at {large:,} vs {small:,} bookings: {wl / ws:.1f}x the time (CPU {cl / cs:.1f}x;"
        f" target <= 12x for 10x the bookings)"
    )


if __name__ == "__main__":
    main()
