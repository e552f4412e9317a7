"""Store transactions under concurrent writers (the webhook writer and the serve worker
share one SQLite file): a transaction that reads first never fails on its later write."""

from __future__ import annotations

import sqlite3

import pytest

from guestsync.models import InboxEntry
from guestsync.store import Store


def entry(i: str) -> InboxEntry:
    return InboxEntry("s", "events", i, f"h{i}", "{}", "webhook")


def test_a_transaction_owns_the_write_lock_from_its_start(tmp_path):
    path = tmp_path / "hub.db"
    worker, webhooks = Store.open(path), Store.open(path)
    webhooks.conn.execute("PRAGMA busy_timeout = 0")  # refused at once instead of waiting
    with worker.atomic():
        assert worker.count_pending() == 0  # reads first, as a process batch does
        # a writer arriving meanwhile waits its turn (here: is refused at once)
        with pytest.raises(sqlite3.OperationalError, match="locked"), webhooks.atomic():
            webhooks.add_to_inbox([entry("late")])
        worker.add_to_inbox([entry("mine")])  # so this write can never be refused
    with webhooks.atomic():  # the lock is free again after the commit
        webhooks.add_to_inbox([entry("late")])
    assert sorted(r.external_id for r in worker.pending_inbox(limit=10)) == ["late", "mine"]
