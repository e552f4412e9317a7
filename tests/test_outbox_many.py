"""`enqueue_many` (the bulk lane's settle: hashes compared set-based) decides as
`enqueue` does one guest at a time: unchanged guests are not queued, a pending row
coalesces, a payload back to what the CRM has closes its pending row."""

from __future__ import annotations

from guestsync.hashing import json_hash
from guestsync.store import Store


def _state(store: Store) -> list[tuple[str, str, str]]:
    return store.conn.execute(
        "SELECT guest_id, status, payload_hash FROM outbox ORDER BY guest_id"
    ).fetchall()


def _prepare(store: Store) -> list[tuple[str, dict, str]]:
    """Guests a..e in every state the outbox and the CRM links can hold them."""
    p1, p2 = {"v": 1}, {"v": 2}
    for gid in "abc":
        store.enqueue("crm", gid, p1, json_hash(p1))
    for item in store.pending_outbox("crm", limit=10):
        store.mark_delivered(item, f"crm-{item.guest_id}")  # a, b, c: the CRM has p1
    store.enqueue("crm", "b", p2, json_hash(p2))  # b: p2 pending
    store.enqueue("crm", "c", p2, json_hash(p2))  # c: p2 pending
    store.enqueue("crm", "d", p2, json_hash(p2))  # d: never delivered, p2 pending
    return [
        ("a", p1, json_hash(p1)),  # as delivered: nothing
        ("b", p2, json_hash(p2)),  # as pending: nothing
        ("c", p1, json_hash(p1)),  # back to what the CRM has: the pending row is done
        ("d", {"v": 3}, json_hash({"v": 3})),  # changed again: coalesces, pending
        ("e", p1, json_hash(p1)),  # new: pending
    ]


def test_enqueue_many_decides_as_enqueue_one_by_one(tmp_path):
    one, many = Store.open(tmp_path / "one.db"), Store.open(tmp_path / "many.db")
    items = _prepare(one)
    assert items == _prepare(many)
    queued_one = sum(one.enqueue("crm", *item) for item in items)
    queued_many = many.enqueue_many("crm", items)
    assert queued_one == queued_many == 2
    assert _state(one) == _state(many)
    assert dict((g, s) for g, s, _ in _state(many)) == {
        "a": "done",
        "b": "pending",
        "c": "done",
        "d": "pending",
        "e": "pending",
    }
