"""The process stage settles each touched guest once per run (m0016 dirty_guests):
however many batches touched a guest, its golden record, aggregates and CRM payload are
computed once, from all its rows; guests noted but not settled (a crash in between) are
settled by the next run; progress counts rows, then guests."""

from __future__ import annotations

import json

from guestsync.config.connectors import HubSpotTargetOptions
from guestsync.connectors.hubspot import HubSpotTarget
from guestsync.process import outbox
from guestsync.process.batch import ProcessStats, process_batch, process_pending
from guestsync.restaurant import aggregates
from guestsync.store import Store

from .activity_fixtures import RecordMapping, feed, settings, to_inbox
from .test_aggregates import AMY_RECORDS

TARGETS = {"hubspot": HubSpotTarget("hubspot", HubSpotTargetOptions(type="hubspot", token="t"))}


def _mapping(source: str, stream: str) -> RecordMapping:
    return RecordMapping()


def _inbox(store: Store) -> None:
    to_inbox(store, AMY_RECORDS)


def test_a_guest_touched_by_every_batch_is_settled_once_from_all_its_rows(monkeypatch):
    assert len(AMY_RECORDS) >= 3
    computed: list[str] = []
    real = aggregates.compute
    monkeypatch.setattr(
        aggregates, "compute", lambda g, *a, **k: computed.append(g.id) or real(g, *a, **k)
    )
    store = Store.open(":memory:")
    stats = feed(store, AMY_RECORDS, targets=TARGETS, batch_size=1)
    (item,) = store.pending_outbox("hubspot", limit=10)
    assert computed == [item.guest_id]  # one settle, not one per batch
    assert stats.queued == 1 and stats.processed == len(AMY_RECORDS)
    assert aggregates.load(store, item.guest_id).visit_count == 3  # every batch's rows
    assert store.count_dirty() == 0


def test_guests_noted_but_not_settled_are_settled_by_the_next_run():
    store = Store.open(":memory:")
    _inbox(store)
    rows = store.pending_inbox(limit=100, after_id=0)
    stats = ProcessStats()
    process_batch(store, rows, _mapping, TARGETS, stats, settings=settings(), defer=True)
    # ... and the process dies here: rows done, guest noted, nothing queued yet.
    assert store.count_pending() == 0 and store.count_dirty() == 1
    assert store.pending_outbox("hubspot", limit=10) == []
    again = process_pending(store, _mapping, TARGETS, settings=settings())
    assert again.processed == 0 and again.queued == 1
    assert len(store.pending_outbox("hubspot", limit=10)) == 1 and store.count_dirty() == 0


def test_progress_counts_rows_then_guests_to_the_end():
    store = Store.open(":memory:")
    _inbox(store)
    ticks: list[tuple[int, int]] = []
    process_pending(
        store,
        _mapping,
        TARGETS,
        batch_size=2,
        settings=settings(),
        progress=lambda done, total: ticks.append((done, total)),
    )
    n = len(AMY_RECORDS)
    assert ticks[-1] == (n + 1, n + 1)  # every row, then the one guest
    assert [d for d, _ in ticks] == sorted(d for d, _ in ticks)
    assert all(d <= t for d, t in ticks)


def test_the_daily_refresh_runs_in_chunks_and_queues_what_one_transaction_would():
    """A chunked refresh (webhooks wait for one chunk, not for every guest) queues the
    same payloads as one big transaction; the day is marked done once, at the end."""
    from datetime import timedelta

    def run(chunk: int) -> tuple[int, int, list]:
        store = Store.open(":memory:")
        names = ["Amy Lin", "Bo Chen", "Cy Wu", "Di Ho", "Ed Ko"]

        def other(g, i: int):  # five guests with Amy's history, each her own contacts
            change = {"email": f"g{i}@example.com", "full_name": names[i] if g.full_name else None}
            return g.model_copy(update={**change, "phone": f"+8869120001{i}0" if g.phone else None})

        records = [
            r.model_copy(update={"external_id": f"{r.external_id}-{i}", "guest": other(r.guest, i)})
            for i in range(5)
            for r in AMY_RECORDS
        ]
        feed(store, records, targets=TARGETS)
        begins: list[str] = []
        store.conn.set_trace_callback(lambda sql: begins.append(sql) if "BEGIN" in sql else 0)
        later = settings()
        later.clock = lambda: settings().clock() + timedelta(days=100)
        queued = outbox.refresh_all(store, TARGETS, later, chunk=chunk)
        items = store.pending_outbox("hubspot", limit=100)
        payloads = sorted(
            json.dumps({k: v for k, v in i.payload.items() if k != "guestsync_id"}, sort_keys=True)
            for i in items
        )
        return queued, len(begins), payloads

    one, chunked = run(1000), run(2)
    assert chunked[0] == one[0] == 5 and chunked[2] == one[2]
    assert one[1] == 2 and chunked[1] > one[1]  # more, shorter transactions
