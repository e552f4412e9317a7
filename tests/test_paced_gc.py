"""The garbage collector is paced while a backlog is processed, and put back after (#20)."""

from __future__ import annotations

import gc

import pytest

from guestsync.process import gc_pacing
from guestsync.process.gc_pacing import (
    PACED_GC,
    SETTLE_GEN0,
    freeze_long_lived,
    paced,
    settling,
)


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
