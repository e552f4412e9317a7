"""Issue 23, delivery: what a new user met against an independently written HubSpot fake."""

from __future__ import annotations

import os
from collections.abc import Sequence

from guestsync.config.connectors import DeliveryRetryOptions
from guestsync.connectors.base import RecordResult
from guestsync.delivery.batches import deliver
from guestsync.delivery.lease import LEASE_KEY, DeliveryLease
from guestsync.errors import RetryableError
from guestsync.models import Guest, OutboxItem
from guestsync.store import Store
from guestsync.testing.fake_hubspot import FakeHubSpot
from guestsync.testing.harness import connect
from guestsync.testing.server import ServerThread

RETRY = DeliveryRetryOptions(max_attempts=3, initial_wait=0, max_wait=0)


def _queue(store: Store, target: str, payloads: dict[str, dict[str, str]]) -> None:
    with store.atomic():
        for gid, payload in payloads.items():
            store.enqueue(target, gid, payload, f"h-{gid}")


def test_an_existing_email_answered_with_one_409_for_the_batch_is_adopted(store):
    crm = FakeHubSpot()
    crm.contacts["500"] = {"email": "g7@example.com", "firstname": "By hand"}
    crm.index[("email", "g7@example.com")] = "500"
    with ServerThread(crm.app) as server:
        target = connect("hubspot", crm, server.url)
        _queue(store, "hubspot", {f"g{n}": {"email": f"g{n}@example.com"} for n in range(20)})
        stats = deliver(store, target, RETRY, sleep=lambda s: None)
    assert crm.counts["409"] >= 1  # the fake answers as HubSpot does
    assert stats.dead == 0 and stats.pushed == 20 and store.dead_letters() == []
    assert crm.contacts["500"]["guestsync_id"] == "g7"  # adopted, not duplicated
    assert len(crm.contacts) == 20


class Flaky:
    """A target whose one batch keeps failing (a record the CRM chokes on with a 500)."""

    name = "flaky"
    max_batch = 5
    rate = None

    def __init__(self, bad: set[str]) -> None:
        self.bad = bad
        self.calls = 0

    def project(self, guest: Guest) -> dict:
        return {}

    def upsert(self, batch: Sequence[OutboxItem]) -> list[RecordResult]:
        self.calls += 1
        if self.bad & {i.guest_id for i in batch}:
            raise RetryableError("flaky: HTTP 500: internal error", status=500)
        return [RecordResult(i.guest_id, ok=True, crm_id=f"c{i.guest_id}") for i in batch]


def test_one_failing_batch_does_not_stop_the_whole_target(store):
    t = Flaky({"g02"})
    _queue(store, "flaky", {f"g{n:02}": {} for n in range(30)})
    stats = deliver(store, t, RETRY, sleep=lambda s: None)
    assert stats.pushed == 25 and stats.stopped is None
    assert stats.pending_left == 5 and "HTTP 500" in (stats.pending_why or "")


def test_a_crm_that_is_down_stops_the_target_after_a_few_batches(store):
    t = Flaky({f"g{n:02}" for n in range(30)})
    _queue(store, "flaky", {f"g{n:02}": {} for n in range(30)})
    stats = deliver(store, t, RETRY, sleep=lambda s: None)
    assert stats.stopped and t.calls == 2 * RETRY.max_attempts
    assert stats.pending_left == 30


def test_a_second_delivery_leaves_the_target_to_the_lease_holder(store):
    t = Flaky(set())
    _queue(store, "flaky", {"g1": {}})
    holder = DeliveryLease(store, "flaky")
    assert holder.take()
    stats = deliver(store, t, RETRY, sleep=lambda s: None)
    assert t.calls == 0 and stats.skipped and f"pid {os.getpid()}" in stats.skipped
    holder.release()
    assert deliver(store, t, RETRY, sleep=lambda s: None).pushed == 1
    assert store.get_meta(LEASE_KEY.format(target="flaky")) is None  # released after


def test_a_lease_left_by_a_dead_process_is_taken_over(store):
    import socket

    with store.atomic():
        store.set_meta(
            LEASE_KEY.format(target="flaky"), f"{socket.gethostname()}:999999999:x|9999-01-01"
        )
    t = Flaky(set())
    _queue(store, "flaky", {"g1": {}})
    assert deliver(store, t, RETRY, sleep=lambda s: None).pushed == 1


def test_wrong_token_says_credentials_refused_and_how_many_wait(store):
    crm = FakeHubSpot(token="right")
    with ServerThread(crm.app) as server:
        target = connect("hubspot", crm, server.url, token="wrong")
        _queue(store, "hubspot", {f"g{n}": {"email": f"g{n}@x.org"} for n in range(7)})
        stats = deliver(store, target, RETRY, sleep=lambda s: None)
    assert stats.stopped and stats.stopped.startswith(
        "hubspot: credentials refused (401): 7 pending"
    )
    assert stats.pending_left == 7
