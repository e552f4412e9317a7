"""Identity serialized per blocking key on PostgreSQL (store/keylocks.py, issue #22): two
workers' windows run side by side, yet two records of one person, arriving at two
workers at the same moment and sharing nothing but their blocking keys, become one guest.

The race is made deterministic: worker A's window stops just before it commits (holding
its locks); worker B's window of the other record then runs and must wait for A's; once
A commits, B finds A's guest. Without the key locks B would see no guest (A's is not
committed) and create a second one."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from guestsync.models import Entity, Guest, InboxEntry, SourceRecord
from guestsync.process.batch import ProcessStats, process_batch
from guestsync.restaurant.hooks import ActivitySettings
from guestsync.store import Store, open_store
from guestsync.store.keylocks import KeyLocks, Relock, lock_id


class RecordMapping:
    """The raw row is the canonical record as JSON."""

    def apply(self, raw: Any, *, source: str, stream: str, external_id: str) -> SourceRecord:
        return SourceRecord.model_validate(
            {**raw, "source": source, "stream": stream, "external_id": external_id}
        )


def _entry(source: str, external_id: str, guest: Guest) -> InboxEntry:
    record = SourceRecord(
        source=source, stream="guests", external_id=external_id, entity=Entity.guest, guest=guest
    )
    return InboxEntry.of(
        source=source,
        stream="guests",
        external_id=external_id,
        record=json.loads(record.model_dump_json(exclude={"source", "stream", "external_id"})),
        origin="test",
    )


def _fill(url: str, entries: list[InboxEntry]) -> None:
    store = open_store(url)
    with store.atomic():
        store.add_to_inbox(entries)
    store.close()


def _window(store: Store, owner: str, stats: ProcessStats, *, bulk: bool) -> None:
    rows = store.claim_inbox(limit=1, owner=owner)
    assert len(rows) == 1
    process_batch(
        store,
        rows,
        lambda s, st: RecordMapping(),  # type: ignore[arg-type,return-value]
        {},
        stats,
        settings=ActivitySettings(),
        defer=True,
        bulk=bulk,
    )


def _window_paused_before_commit(
    store: Store, stats: ProcessStats, *, bulk: bool
) -> tuple[threading.Thread, threading.Event]:
    """A's window in a thread, held at its last write before COMMIT (its locks held) until
    the returned event is set."""
    at_commit, go_on = threading.Event(), threading.Event()
    mark_dirty = store.mark_dirty

    def paused(guest_ids: Any) -> None:
        mark_dirty(guest_ids)
        at_commit.set()
        assert go_on.wait(30)

    store.mark_dirty = paused  # type: ignore[method-assign]
    thread = threading.Thread(
        target=_window, args=(store, "host:1:a", stats), kwargs={"bulk": bulk}
    )
    thread.start()
    assert at_commit.wait(30)
    return thread, go_on


@pytest.mark.parametrize("bulk", [False, True], ids=["per-record", "bulk-window"])
def test_one_person_on_two_workers_at_once_is_one_guest(pg_url: str, bulk: bool) -> None:
    # the same person from two platforms: no ref in common, the same email
    _fill(
        pg_url,
        [
            _entry("inline", "r-1", Guest(full_name="Lin Mei", email="lin.mei@example.com")),
            _entry(
                "opentable",
                "o-9",
                Guest(full_name="Lin Mei", email="lin.mei@example.com", phone="+886912345678"),
            ),
        ],
    )
    a, b = open_store(pg_url), open_store(pg_url)
    sa, sb = ProcessStats(), ProcessStats()
    ta, go_on = _window_paused_before_commit(a, sa, bulk=bulk)
    tb = threading.Thread(target=_window, args=(b, "host:2:b", sb), kwargs={"bulk": bulk})
    tb.start()
    time.sleep(1.0)
    try:
        assert tb.is_alive(), "B's window went ahead while A held the person's key"
    finally:
        go_on.set()
        ta.join(30)
        tb.join(30)
    assert sa.processed == sb.processed == 1
    assert (sa.guests_created, sb.guests_created) == (1, 0)  # counted once, not per attempt
    assert a.count_guests() == 1
    assert a.count_pending() == 0
    a.close()
    b.close()


def test_windows_without_a_key_in_common_overlap(pg_url: str) -> None:
    """Two different people: B's window commits while A's is still open (no global lock)."""
    _fill(
        pg_url,
        [
            _entry("inline", "r-1", Guest(full_name="Lin Mei", email="lin.mei@example.com")),
            _entry("inline", "r-2", Guest(full_name="Chen Hao", email="chen.hao@example.net")),
        ],
    )
    a, b = open_store(pg_url), open_store(pg_url)
    sa, sb = ProcessStats(), ProcessStats()
    ta, go_on = _window_paused_before_commit(a, sa, bulk=False)
    try:
        _window(b, "host:2:b", sb, bulk=False)  # returns while A still holds its window open
    finally:
        go_on.set()
        ta.join(30)
    assert sb.processed == 1
    assert a.count_guests() == 2
    a.close()
    b.close()


def test_a_lock_held_elsewhere_restarts_the_window_holding_it(pg_url: str) -> None:
    a, b = open_store(pg_url), open_store(pg_url)
    k1, k2 = lock_id("ref", "s", "x", "1"), lock_id("ref", "s", "x", "2")
    other = KeyLocks([k1])
    other.prepare(a.conn)  # type: ignore[arg-type]
    a.conn.execute("BEGIN")
    other.begin(a.conn)  # type: ignore[arg-type]
    assert other.held == {k1}
    mine = KeyLocks(known=[k2])
    mine.prepare(b.conn)  # type: ignore[arg-type]
    b.conn.execute("BEGIN")
    mine.begin(b.conn)  # type: ignore[arg-type]
    assert mine.take(b.conn, [k2])  # type: ignore[arg-type]
    assert not mine.take(b.conn, [k2])  # type: ignore[arg-type]
    with pytest.raises(Relock):
        mine.take(b.conn, [k1])  # type: ignore[arg-type]
    assert mine.wanted == {k1, k2}
    b.conn.execute("ROLLBACK")
    a.conn.execute("COMMIT")
    a.close()
    b.close()


def test_a_window_that_keeps_meeting_held_locks_ends_under_the_write_lock(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After MAX_TRIES restarts the window runs as every other writer does: exclusive."""
    monkeypatch.setattr("guestsync.store.keylocks.MAX_TRIES", 0)
    _fill(pg_url, [_entry("inline", "r-1", Guest(full_name="Lin Mei", email="lin@example.com"))])
    store = open_store(pg_url)
    stats = ProcessStats()
    _window(store, "host:1:a", stats, bulk=False)
    assert (stats.processed, store.count_guests(), store.count_pending()) == (1, 1, 0)
    store.close()
