"""Aggregates: cost of recomputing the guests one batch touched, against a store of N.

Builds a store with N guests (each about 4 reservations, 3 bills with 2 items, 1
feedback), then measures, in the same run:
- baseline: reading one batch of guests' rows (`guest_activity`), the floor;
- incremental: `aggregates.refresh()` of those BATCH guests (read + compute + save);
- full: `aggregates.refresh()` of all N guests;
- daily: the next day's refresh, which redoes only the guests whose `recheck_on` came.
Prints guests/s and the ratios incremental/baseline and full-per-guest/incremental-per-
guest (about 1: the cost per touched guest does not grow with the store).
Usage: bench_aggregates.py [N] [BATCH]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from guestsync.config.crm import CrmConfig
from guestsync.models import Feedback, Guest, Order, OrderItem, Reservation
from guestsync.restaurant import aggregates
from guestsync.store import Store

TZ = ZoneInfo("Asia/Taipei")
DISHES = ["牛肉麵", "海鮮套餐", "松露燉飯", "小籠包", "Tea", "Beer"]


def build(store: Store, n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, 11, tzinfo=UTC)
    ids = []
    with store.atomic():
        for g in range(n):
            gid = f"g{g:07d}"
            ids.append(gid)
            store.save_guest(Guest(id=gid, full_name=f"Guest {g}", email=f"g{g}@example.com"))
            for r in range(4):
                at = start + timedelta(days=rng.randrange(600), hours=rng.randrange(10))
                status = rng.choice(["completed", "completed", "no_show", "cancelled"])
                store.upsert_reservation(
                    source="b",
                    external_id=f"{gid}-r{r}",
                    guest_id=gid,
                    updated_at=None,
                    reservation=Reservation(venue="v1", start_at=at, party_size=2, status=status),
                )
            for o in range(3):
                at = start + timedelta(days=rng.randrange(600), hours=rng.randrange(10))
                items = [OrderItem(name=rng.choice(DISHES)) for _ in range(2)]
                store.upsert_order(
                    source="p",
                    external_id=f"{gid}-o{o}",
                    guest_id=gid,
                    updated_at=None,
                    order=Order(
                        venue="v1",
                        placed_at=at,
                        total=Decimal(rng.randrange(200, 5000)),
                        currency="TWD",
                        items=items,
                        reservation_id=f"{gid}-r{o}",
                    ),
                )
            store.upsert_feedback(
                source="s",
                external_id=f"{gid}-f",
                guest_id=gid,
                updated_at=None,
                feedback=Feedback(rating=Decimal(rng.randrange(1, 6)), at=start),
            )
    return ids


def timed(fn, repeat: int = 3) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    batch = min(n, int(sys.argv[2]) if len(sys.argv) > 2 else 500)
    crm = CrmConfig()
    today = datetime(2026, 9, 1).date()
    with tempfile.TemporaryDirectory() as d:
        store = Store.open(Path(d) / "bench.db")
        t0 = time.perf_counter()
        ids = build(store, n)
        print(f"built {n} guests in {time.perf_counter() - t0:.1f} s")
        touched = set(random.Random(2).sample(ids, batch))

        def read() -> None:
            for gid in touched:
                store.guest_activity(gid)

        def incremental() -> None:
            with store.atomic():
                aggregates.refresh(store, touched, today=today, tz=TZ, crm=crm)

        def full() -> None:
            with store.atomic():
                aggregates.refresh(store, set(ids), today=today, tz=TZ, crm=crm)

        base = timed(read)
        inc = timed(incremental)
        whole = timed(full, repeat=1 if n > 20000 else 3)
        # The next day: only guests whose recheck day has come are recomputed.
        tomorrow = today + timedelta(days=1)
        due = set(store.guests_to_recheck(tomorrow, stamp=""))
        t0 = time.perf_counter()
        with store.atomic():
            aggregates.refresh(store, due, today=tomorrow, tz=TZ, crm=crm)
        daily = time.perf_counter() - t0
        store.close()
    print(f"baseline read of {batch} guests:   {batch / base:9.0f} guests/s  ({base:.3f} s)")
    print(f"incremental refresh of {batch}:     {batch / inc:9.0f} guests/s  ({inc:.3f} s)")
    print(f"full refresh of {n}:            {n / whole:9.0f} guests/s  ({whole:.3f} s)")
    print(f"next day's refresh: {len(due)} of {n} guests due, {daily:.3f} s")
    print(f"ratio incremental / baseline read: {inc / base:.2f}x")
    print(f"ratio per-guest full / incremental: {(whole / n) / (inc / batch):.2f}")


if __name__ == "__main__":
    main()
