"""Guests/s delivered to the fake Fxiaoke and fake Kingdee, against HubSpot as a baseline.

For N guests per target (fresh store, no faults): Fxiaoke makes one lookup and one create
per new guest (no upsert in its API), Kingdee one query and one BatchSave per batch, and
HubSpot one batch upsert per 100, all on 127.0.0.1. Prints guests/s, HTTP calls, and the
ratio of each to the HubSpot baseline measured in the same run; then Fxiaoke paced at
PACE calls/s (`rate`, default 10; its real limit is about 3/s, 60 per 20 s) through the
account's shared budget as the hub does it, against a fake that throttles above 60 calls in
a window scaled to PACE: the figures that matter are achieved calls/s as a fraction of
PACE (pacing efficiency, goal above 0.9) and zero throttled answers.
Usage: bench_cn_targets.py [N] [PACE]
"""

from __future__ import annotations

import sys
import time

from guestsync.config.connectors import (
    DeliveryRetryOptions,
)
from guestsync.delivery.batches import deliver
from guestsync.delivery.rate_budget import SAFETY, pacer_for
from guestsync.hashing import json_hash
from guestsync.models import Guest
from guestsync.store import Store
from guestsync.testing import FakeFxiaoke, FakeHubSpot, FakeKingdee, ServerThread
from guestsync.testing.harness import connect

RETRY = DeliveryRetryOptions(max_attempts=5, initial_wait=0, max_wait=0)


def guests(n: int) -> list[Guest]:
    return [
        Guest(
            id=f"bench-{i:06d}",
            full_name=f"客人{i}",
            phone=f"+86139{i:08d}",
            email=f"guest{i}@example.cn",
        )
        for i in range(n)
    ]


def run(target, n: int, options=None) -> tuple[float, int]:
    """Deliver n guests; with `options`, paced the way the hub paces (`pacer_for`)."""
    store = Store.open(":memory:")
    with store.atomic():
        for g in guests(n):
            payload = target.project(g)
            store.enqueue(target.name, g.id, payload, json_hash(payload))
    pace = pacer_for(store, target.name, target, options) if options is not None else None
    start = time.perf_counter()
    stats = deliver(store, target, RETRY, pace=pace)
    elapsed = time.perf_counter() - start
    assert stats.pushed == n, stats
    return n / elapsed, stats.batches


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    pace = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    rows = []
    hub = FakeHubSpot()
    with ServerThread(hub.app) as srv:
        t = connect("hubspot", hub, srv.url)
        base, _ = run(t, n)
        rows.append(("hubspot (baseline)", base, hub.counts["requests"]))
    fxk = FakeFxiaoke()
    with ServerThread(fxk.app) as srv:
        rate, _ = run(connect("fxiaoke", fxk, srv.url, open_user_id="admin", rate=None), n)
        rows.append(("fxiaoke (unpaced)", rate, fxk.counts["requests"] + fxk.counts["token"]))
    kd = FakeKingdee()
    with ServerThread(kd.app) as srv:
        rate, _ = run(connect("kingdee", kd, srv.url), n)
        rows.append(("kingdee", rate, kd.counts["requests"]))
    print(f"N={n} guests per target, no faults, fakes on 127.0.0.1")
    for name, rate, calls in rows:
        print(
            f"  {name:20s} {rate:9.1f} guests/s  {calls:6d} HTTP calls  "
            f"ratio to baseline {rate / base:6.3f}"
        )

    paced_n = max(10, int(pace * 18) // 3)  # about 18 s: 3 calls per new guest
    # Fxiaoke's 60 calls per 20 s, scaled to PACE: the fake throttles beyond it.
    fxk = FakeFxiaoke(calls_per_window=60, window=20.0 * 2.9 / pace)
    with ServerThread(fxk.app) as srv:
        target = connect("fxiaoke", fxk, srv.url, open_user_id="admin", rate=pace)
        start = time.perf_counter()
        run(target, paced_n, target.options)  # the shared budget, per call
        elapsed = time.perf_counter() - start
        calls = fxk.counts["requests"]
    achieved = calls / elapsed
    print(
        f"fxiaoke rate {pace:g} calls/s (shared budget, {SAFETY:.2f} safety), "
        f"{paced_n} guests: {achieved:.2f} calls/s = {achieved / pace:.3f} of the rate, "
        f"throttled answers: {fxk.counts['throttled']}"
    )


if __name__ == "__main__":
    main()
