"""Two connections to one PostgreSQL store, as two `serve` nodes or a node and a cron run
would have: writers take turns as on SQLite, a webhook event id is accepted once whichever
node receives it, and the delivery lease is held by one of them."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from guestsync.delivery.lease import DeliveryLease
from guestsync.models import InboxEntry
from guestsync.store import Store, open_store


@pytest.fixture
def two_nodes(pg_url):
    a, b = open_store(pg_url), open_store(pg_url)
    yield a, b
    a.close()
    b.close()


def entry(i: str) -> InboxEntry:
    return InboxEntry("s", "events", i, f"h{i}", "{}", "webhook")


def _waits_for_a_lock(pg_url: str, pid: int) -> bool:
    with psycopg.connect(pg_url) as watcher:
        for _ in range(200):  # up to 10 s for the other thread to reach its BEGIN
            row = watcher.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
            ).fetchone()
            if row and row[0] == "Lock":
                return True
            time.sleep(0.05)
    return False


def test_a_transaction_waits_for_another_nodes_transaction_to_end(pg_url, two_nodes):
    a, b = two_nodes
    order: list[str] = []

    def second() -> None:
        with b.atomic():
            order.append("b")
            b.add_to_inbox([entry("b")])

    with a.atomic():
        assert a.count_pending() == 0  # reads first, as a process batch does
        t = threading.Thread(target=second)
        t.start()
        assert _waits_for_a_lock(pg_url, b.conn.raw.info.backend_pid)  # type: ignore[union-attr]
        assert order == []
        a.add_to_inbox([entry("a")])
        order.append("a")
    t.join(30)
    assert order == ["a", "b"]
    assert sorted(r.external_id for r in b.pending_inbox(limit=10)) == ["a", "b"]


def test_an_error_rolls_back_and_nested_blocks_are_savepoints(any_store: Store):
    with pytest.raises(RuntimeError), any_store.atomic():
        any_store.add_to_inbox([entry("a")])
        raise RuntimeError("boom")
    with any_store.atomic():
        any_store.add_to_inbox([entry("b")])
        with pytest.raises(RuntimeError), any_store.atomic():
            any_store.add_to_inbox([entry("c")])
            raise RuntimeError("inner")
    assert [r.external_id for r in any_store.pending_inbox(limit=10)] == ["b"]
    assert not any_store.conn.in_transaction


def test_an_event_id_is_taken_once_whichever_node_receives_it(pg_url):
    nodes = [open_store(pg_url) for _ in range(6)]  # a connection each, as nodes have
    results: list[bool] = []
    start = threading.Barrier(len(nodes))

    def receive(store: Store, i: int) -> None:
        start.wait()
        results.append(store.add_webhook_event("sq", "evt-1", [(entry(f"r{i}"), False)]))

    threads = [threading.Thread(target=receive, args=(s, i)) for i, s in enumerate(nodes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert sorted(results) == [False] * 5 + [True]
        assert nodes[0].count_pending() == 1
    finally:
        for n in nodes:
            n.close()


def test_the_delivery_lease_is_held_by_one_node_at_a_time(two_nodes):
    a, b = two_nodes
    first, second = DeliveryLease(a, "hubspot"), DeliveryLease(b, "hubspot")
    first.owner, second.owner = "node-a:1:x", "node-b:2:y"  # two machines
    assert first.take()
    assert not second.take() and second.holder == "node-a:1:x"
    first.release()
    assert second.take()
