"""The garbage collector is paced while a backlog is processed, and put back after (#20)."""

from __future__ import annotations

import gc
import weakref

import pytest

from guestsync.process import batch, gc_pacing
from guestsync.process.gc_pacing import (
    PACED_GC,
    SETTLE_GEN0,
    freeze_long_lived,
    paced,
    settling,
)
from guestsync.store import Store
from guestsync.testing.synthetic import rows, to_record

from .activity_fixtures import RecordMapping, to_inbox


def test_paced_gc_freezes_then_restores_the_collector():
    before = gc.get_threshold()
    with paced():
        assert gc.get_threshold() == PACED_GC
        assert gc.get_freeze_count() > 0  # what existed is no longer walked
        cycle: list[object] = []
        cycle.append(cycle)  # a cycle made meanwhile is still collectable
        del cycle
        assert gc.collect() >= 1
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_paced_gc_restores_after_an_error():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), paced():
        raise RuntimeError("boom")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_long_lived_objects_are_frozen_outside_a_paced_backlog_only(monkeypatch):
    monkeypatch.setattr(gc_pacing, "_frozen", False)
    full = gc.get_stats()[2]["collections"]
    with paced():
        freeze_long_lived()  # paced() froze the backlog's start and unfreezes it all after
        assert gc.get_stats()[2]["collections"] == full
    assert gc.get_freeze_count() == 0
    try:
        freeze_long_lived()  # serve's worker: once, after its first window
        assert gc.get_stats()[2]["collections"] == full + 1
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_bulk_window_runs_no_collection():
    before = gc.get_threshold()
    with gc_pacing.no_collections():
        assert min(gc.get_threshold()) >= 1 << 30
    assert gc.get_threshold() == before


def test_settling_collects_the_young_less_often_then_restores():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), settling():
        assert gc.get_threshold() == (max(before[0], SETTLE_GEN0), *before[1:])
        raise RuntimeError("boom")
    assert gc.get_threshold() == before


class _Node:
    me: object


def test_a_window_done_in_a_paced_backlog_is_frozen_until_it_ends():
    gc_pacing.window_done()  # not paced: nothing frozen for good
    assert gc.get_freeze_count() == 0
    with paced():
        frozen = gc.get_freeze_count()
        left = _Node()
        left.me = left  # a cycle a window leaves behind
        gone = weakref.ref(left)
        gc_pacing.window_done()
        assert gc.get_freeze_count() > frozen  # not walked by the collections after
        del left
        gc.collect()
        assert gone() is not None  # frozen: no collection walks it
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gone() is None  # the backlog over, its cycles are collected


def test_each_window_is_taken_in_with_no_collection_and_its_hand_over_let_go(tmp_path, monkeypatch):
    """process_pending takes each window in (the worker's hand-over rebuilt) inside
    `no_collections`, and drops what held the hand-over before the window is resolved."""
    store = Store.open(tmp_path / "s.db")
    to_inbox(store, [to_record(r) for r, _ in rows(3, 2.0, seed=1)][:6])
    held: dict[int, weakref.ref[object]] = {}  # by the window's first inbox row
    thresholds: list[int] = []

    class HandOver:  # stands for the worker's future, holding the hand-over as sent
        pass

    def premap(window):  # type: ignore[no-untyped-def]
        sent = HandOver()
        held[window[0].id] = weakref.ref(sent)

        def take(sent: HandOver = sent):  # type: ignore[no-untyped-def]  # held as the future is
            thresholds.append(min(gc.get_threshold()))
            return batch.map_ahead(window, lambda s, st: RecordMapping())  # type: ignore[arg-type,return-value]

        return take

    real = batch.process_batch
    alive: list[bool] = []

    def process_batch(store, window, *args, **kwargs):  # type: ignore[no-untyped-def]
        alive.append(held[window[0].id]() is not None)
        return real(store, window, *args, **kwargs)

    monkeypatch.setattr(batch, "process_batch", process_batch)
    stats = batch.process_pending(
        store,
        lambda s, st: RecordMapping(),
        {},
        batch_size=2,
        premap=premap,  # type: ignore[arg-type,return-value]
    )
    store.close()
    assert stats.processed == 6 and len(alive) == 3
    assert not any(alive)  # let go before each window was processed
    assert thresholds and min(thresholds) >= 1 << 30
