"""Records/s delivered to each fake CRM under its rate limit, as a fraction of the bound.

For each target (HubSpot, Salesforce, Zoho, generic REST, BottleCRM) the fake enforces a
rolling-window limit of RATE requests/s (answering the vendor's own 429 body beyond it) and
the target is configured with `rate: RATE`; delivery goes through the engine and the shared
rate budget (SQLite file, as in production), with no fault injected. Printed per target:

- capacity: records/s with no limit at all (the baseline, measured in the same run: it
  shows the fake and client are not what limits the paced run);
- paced: records/s under the limit, and `fraction` = paced / bound, where the bound is
  records per request x RATE (batch size for batch APIs; BottleCRM has no batch or upsert
  endpoint, so a new contact with email and phone costs a lookup by email, one by phone
  and a create: 1/3 record per request); the first request is free (a burst of one), so
  a run of R requests can reach R/(R-1) of the bound;
- 429s: throttle answers the fake gave our client (the goal is 0 without injected faults).

The vendors' real limits (HubSpot 19/s, Salesforce and Zoho lower) are scaled to RATE so
a run finishes quickly; what is measured is how close the pacing gets to any limit. Keep
RATE x batch well under the capacity column (on a loaded machine, Salesforce's 200-record
batches at 8/s already take most of each interval and the fraction drops to ~0.8).
Fxiaoke and Kingdee: benchmarks/bench_cn_targets.py.
Usage: bench_delivery.py [N guests per target, default 4000] [RATE requests/s, default 5]
                         [REPEAT paced runs per target, median reported; default 1]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from guestsync.config.connectors import (
    DeliveryRetryOptions,
)
from guestsync.delivery.batches import deliver
from guestsync.delivery.rate_budget import pacer_for
from guestsync.hashing import json_hash
from guestsync.models import Guest
from guestsync.store import Store
from guestsync.testing import (
    FakeBottleCrm,
    FakeHubSpot,
    FakeRestCrm,
    FakeSalesforce,
    FakeZoho,
    ServerThread,
)
from guestsync.testing.harness import connect

RETRY = DeliveryRetryOptions(max_attempts=8, initial_wait=0.2, max_wait=5)
WINDOW = 10.0  # seconds of the fakes' rolling window (HubSpot's: 190 per 10 s)

# name -> (fake class, target options beyond the harness's, records per request at best)
TARGETS: dict[str, tuple[type, dict[str, Any], Callable[[Any], float]]] = {
    "hubspot": (FakeHubSpot, {}, lambda t: t.max_batch),
    "salesforce": (FakeSalesforce, {}, lambda t: t.max_batch),
    "zoho": (FakeZoho, {}, lambda t: t.max_batch),
    "rest": (FakeRestCrm, {}, lambda t: t.max_batch),
    "bottlecrm": (FakeBottleCrm, {"batch_size": 20}, lambda t: 1 / 3),  # 2 lookups + create
}


def guests(n: int, tag: str) -> list[Guest]:
    return [
        Guest(
            id=f"{tag}-{i:06d}",
            given_name="小明",
            family_name=f"陳{i}",
            phone=f"+8869{i:08d}",
            email=f"guest{i}.{tag}@example.com",
        )
        for i in range(n)
    ]


def run(name: str, n: int, rate: float | None) -> tuple[float, int, int, float]:
    """(records/s, requests, 429s, requests/s) for one fresh fake and store."""
    fake_cls, extra, _ = TARGETS[name]
    crm = fake_cls(rate_limit=(int(rate * WINDOW), WINDOW) if rate else None)
    with ServerThread(crm.app) as server, tempfile.TemporaryDirectory() as tmp:
        target = connect(name, crm, server.url, rate=rate, **extra)
        store = Store.open(Path(tmp) / "hub.db")
        with store.atomic():
            for g in guests(n, "paced" if rate else "free"):
                payload = target.project(g)
                store.enqueue(target.name, g.id or "", payload, json_hash(payload))
        pace = pacer_for(store, target.name, target, target.options) if rate else None
        start = time.perf_counter()
        stats = deliver(store, target, RETRY, pace=pace)
        elapsed = time.perf_counter() - start
        store.close()
    assert stats.pushed == n and stats.stopped is None, stats
    calls = crm.counts["api_calls"]
    return n / elapsed, calls, crm.counts["429"], calls / elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    print(f"{n} guests per target, limit {rate:g} requests/s ({int(rate * WINDOW)} per {WINDOW}s)")
    print(
        f"{'target':<11}{'capacity/s':>11}{'paced/s':>10}{'bound/s':>10}{'fraction':>10}"
        f"{'req/s':>8}{'requests':>10}{'429s':>6}"
    )
    fractions = []
    for name, (fake_cls, extra, per_request) in TARGETS.items():
        offline = connect(name, fake_cls(), "http://127.0.0.1:9", **extra)  # never called
        # BottleCRM makes 3 requests per new contact: fewer guests keep its run short.
        size = n if per_request(offline) >= 1 else max(20, n // 50)
        capacity, _, _, _ = run(name, size, None)
        runs = [run(name, size, rate) for _ in range(repeat)]
        paced = statistics.median(r[0] for r in runs)
        calls, throttled = runs[0][1], sum(r[2] for r in runs)
        req_rate = statistics.median(r[3] for r in runs)
        bound = per_request(offline) * rate
        fractions.append(paced / bound)
        print(
            f"{name:<11}{capacity:>11.0f}{paced:>10.1f}{bound:>10.1f}{paced / bound:>10.2f}"
            f"{req_rate:>8.2f}{calls:>10}{throttled:>6}"
        )
    print(f"median fraction of the bound: {statistics.median(fractions):.2f} (goal > 0.9)")


if __name__ == "__main__":
    main()
