"""Group commit: concurrent submits share transactions; each gets its own answer only
after its commit; a failed commit fails every request in it."""

from __future__ import annotations

import threading
import time

from guestsync.config import load_config
from guestsync.intake.group_commit import GroupCommit
from guestsync.metrics import Metrics
from guestsync.store import Store
from guestsync.webhook_server import create_app

from .webhook_signing import hmac_headers, sample, webhook_config


class FakeStore:
    """Holds its first transaction until every other submit is queued behind it."""

    def __init__(self, expected: int, *, fail: bool = False) -> None:
        self.expected, self.fail = expected, fail
        self.batches: list[list[str]] = []
        self.seen: set[str] = set()
        self.gc: GroupCommit | None = None

    def add_webhook_events(self, events):
        if not self.batches:
            deadline = time.monotonic() + 10
            waiting = self.expected - len(events)  # every submit not in this transaction
            while self.gc.queued() < waiting and time.monotonic() < deadline:
                time.sleep(0.001)
        self.batches.append([e for _, e, _ in events])
        if self.fail:
            raise OSError("disk I/O error")
        out = []
        for _, event_id, _ in events:  # in order, as INSERT OR IGNORE does
            out.append(event_id not in self.seen)
            self.seen.add(event_id)
        return out


def run(store: FakeStore, ids: list[str]) -> list[object]:
    gc = store.gc = GroupCommit(store, threading.Lock(), Metrics())
    results: list[object] = [None] * len(ids)

    def send(i: int) -> None:
        try:
            results[i] = gc.submit("s", ids[i], [])
        except OSError as exc:
            results[i] = exc

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(ids))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    return results


def test_queued_submits_share_one_transaction_and_get_their_own_answers():
    ids = [f"e{i % 6}" for i in range(12)]  # every id twice
    store = FakeStore(len(ids))
    results = run(store, ids)
    # the first transaction takes what was queued when the writer woke (usually one
    # submit; more, even all, on a loaded machine); all queued behind it share the next
    assert len(store.batches) <= 2 and sum(len(b) for b in store.batches) == 12
    assert results.count(True) == 6 and results.count(False) == 6


def test_a_failed_commit_fails_every_request_in_it():
    store = FakeStore(8, fail=True)
    results = run(store, [f"e{i}" for i in range(8)])
    assert all(isinstance(r, OSError) for r in results)


def test_the_endpoint_answers_500_when_the_store_fails(make_config):
    store = Store.open(":memory:")
    app = create_app(load_config(make_config(webhook_config())), store=store)

    def broken(events):
        raise OSError("disk full")

    store.add_webhook_events = broken
    body = sample("generic_booking.json")
    resp = app.test_client().post(
        "/webhooks/zap", data=body, headers=hmac_headers(body), content_type="application/json"
    )
    assert resp.status_code == 500  # the sender keeps the event and retries


class FlakyStore(FakeStore):
    """Fails its first transaction only."""

    def add_webhook_events(self, events):
        if not self.batches:
            self.batches.append([])
            raise OSError("disk I/O error")
        return super().add_webhook_events(events)


def test_the_lead_passes_on_after_a_failed_transaction():
    store = FlakyStore(1)
    first = run(store, ["e0"])
    assert isinstance(first[0], OSError)
    # the request that failed still handed the lead on: later submits commit
    assert run(store, [f"e{i}" for i in range(1, 9)]) == [True] * 8


def test_many_concurrent_submits_each_get_their_own_answer():
    class Slow(FakeStore):
        def add_webhook_events(self, events):
            time.sleep(0.002)  # requests queue behind each transaction
            return super().add_webhook_events(events)

    store = Slow(0)
    ids = [f"e{i % 150}" for i in range(300)]
    results = run(store, ids)
    assert sum(len(b) for b in store.batches) == 300
    assert len(store.batches) < 300  # transactions were shared
    assert results.count(True) == 150 and results.count(False) == 150
