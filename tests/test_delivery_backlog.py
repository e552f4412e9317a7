"""Issue 23: a batch the CRM keeps failing on waits out its backoff without holding back
the others; only the shared rate spaces them. HubSpot's real target against `responses`,
an injected clock and sleep: the order of requests and waits is asserted, never wall time."""

from __future__ import annotations

import json
from itertools import pairwise

import responses

from guestsync.config.connectors import DeliveryRetryOptions, HubSpotTargetOptions
from guestsync.connectors.hubspot import UPSERT_PATH, HubSpotTarget
from guestsync.delivery.batches import deliver
from guestsync.delivery.rate_budget import SharedRateLimiter
from guestsync.store import Store

BASE = "https://api.hubapi.com"
RETRY = DeliveryRetryOptions(max_attempts=4, initial_wait=2, max_wait=30)


class Clock:
    """Time that moves only when someone sleeps; every sleep and request is logged."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.log: list[tuple[str, object]] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.log.append(("sleep", round(seconds, 3)))
        self.now += seconds


def _crm(clock: Clock, bad: str) -> None:
    """HubSpot's batch upsert: a 500 for any batch holding `bad`, else every input upserted."""

    def answer(request):  # type: ignore[no-untyped-def]
        ids = [i["objectWriteTraceId"] for i in json.loads(request.body)["inputs"]]
        clock.log.append(("post", (ids[0], clock.now)))
        if bad in ids:
            body = {"status": "error", "message": "internal error", "category": "INTERNAL_ERROR"}
            return 500, {}, json.dumps(body)
        results = [
            {"id": f"c-{g}", "new": True, "objectWriteTraceId": g, "properties": {}} for g in ids
        ]
        return 200, {}, json.dumps({"status": "COMPLETE", "results": results})

    responses.add_callback(responses.POST, BASE + UPSERT_PATH, callback=answer)


def _queue(store: Store, n: int) -> None:
    with store.atomic():
        for i in range(n):
            gid = f"g{i:02}"
            store.enqueue("hs", gid, {"email": f"{gid}@example.com"}, f"h-{gid}")


@responses.activate
def test_a_failing_batch_waits_out_its_backoff_while_the_others_are_sent(store):
    clock = Clock()
    _crm(clock, bad="g05")
    _queue(store, 30)
    target = HubSpotTarget("hs", HubSpotTargetOptions(type="hubspot", token="t", batch_size=5))
    stats = deliver(store, target, RETRY, sleep=clock.sleep, clock=clock, pace=None)

    posts = [what for kind, what in clock.log if kind == "post"]
    firsts = [first for first, _ in posts]
    # The failing batch (g05..g09) is tried, then every other batch goes at once, without
    # waiting for its backoff; its retries come after, spaced by the backoff alone.
    assert firsts[:6] == ["g00", "g05", "g10", "g15", "g20", "g25"]
    assert all(at == 1000.0 for _, at in posts[:6])
    assert firsts[6:] == ["g05"] * (RETRY.max_attempts - 1)
    assert stats.pushed == 25 and stats.stopped is None and stats.retries == 3
    assert store.outbox_counts("hs")["pending"] == 5
    assert "500" in (stats.pending_why or "")
    # The only waits are the failing batch's own backoff (2, 4, 8 s plus jitter < 2 s).
    waits = [s for kind, s in clock.log if kind == "sleep"]
    assert len(waits) == 3 and all(w >= 2 * 2**i for i, w in enumerate(waits))  # type: ignore[operator]


@responses.activate
def test_the_retries_take_their_tokens_from_the_shared_rate_budget(store):
    clock = Clock()
    _crm(clock, bad="g05")
    _queue(store, 30)
    target = HubSpotTarget("hs", HubSpotTargetOptions(type="hubspot", token="t", batch_size=5))
    # 1 request per second for the account: the healthy batches are spaced by the rate,
    # and the failing one's retries wait for their token like any call.
    budget = SharedRateLimiter(store, "hs", 1.0, safety=1.0, clock=clock, sleep=clock.sleep)
    stats = deliver(store, target, RETRY, sleep=clock.sleep, clock=clock, pace=budget.acquire)

    posts = [what for kind, what in clock.log if kind == "post"]
    assert all(b[1] - a[1] >= 1.0 for a, b in pairwise(posts))  # the rate
    healthy = [at for first, at in posts if first != "g05"]
    tries = [at for first, at in posts if first == "g05"]
    # The healthy batches go one token apart; besides g05's first try, a retry of it that
    # fell due in between (its backoff, 2 s + jitter, ended at 1003-1005) took one token
    # among them, no more: the next retry waits 4 s more.
    assert len(healthy) == 5 and healthy[-1] - healthy[0] <= 6.0
    assert len(tries) == RETRY.max_attempts
    assert all(b - a >= 2 * 2**i for i, (a, b) in enumerate(pairwise(tries)))
    assert stats.pushed == 25 and stats.retries == 3


@responses.activate
def test_a_crm_that_is_down_gets_two_batches_whose_waits_overlap_then_the_target_stops(store):
    clock = Clock()
    responses.post(
        BASE + UPSERT_PATH,
        json={"status": "error", "message": "down", "category": "INTERNAL_ERROR"},
        status=503,
    )
    _queue(store, 30)
    target = HubSpotTarget("hs", HubSpotTargetOptions(type="hubspot", token="t", batch_size=5))
    stats = deliver(store, target, RETRY, sleep=clock.sleep, clock=clock)

    assert len(responses.calls) == 2 * RETRY.max_attempts  # two batches, no third
    assert stats.stopped and "gave up" in stats.stopped
    attempts = dict(store.conn.execute("SELECT guest_id, attempts FROM outbox").fetchall())
    assert sum(attempts.values()) == 10 and set(attempts.values()) == {0, 1}
    # the two batches waited out their backoffs side by side: the run took about one
    # batch's waits (2 + 4 + 8 s plus jitter), not two batches' one after the other
    assert 14 <= clock.now - 1000.0 < 2 * 14
