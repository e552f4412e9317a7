"""Mapping in a worker process gives exactly what mapping in-process gives."""

from __future__ import annotations

import shutil

from guestsync.config import load_config
from guestsync.sync_engine import Hub

from .conftest import SAMPLES, SITE_CSV_CONFIG, write_config


def _run(tmp_path, *, parallel: bool):
    write_config(tmp_path, SITE_CSV_CONFIG)
    shutil.copy(SAMPLES / "booking_site.csv", tmp_path / "site.csv")
    hub = Hub(load_config(tmp_path / "guestsync.yaml"))
    hub.parallel_min_rows = 0 if parallel else 10**9
    summary = hub.sync(deliver=False)
    guests = sorted(
        (g.display_name(), g.email or "", g.phone or "") for g in hub.store.all_guests()
    )
    reservations = hub.store.count_reservations()
    hub.close()
    p = summary.process
    return guests, reservations, (p.processed, p.rejected, p.queued), p.errors


def test_parallel_mapping_matches_serial(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    serial = _run(tmp_path / "a", parallel=False)
    parallel = _run(tmp_path / "b", parallel=True)
    assert parallel == serial
    assert serial[2][1] == 1 and "site.csv:" in serial[3][0]  # the bad-phone row, both ways


def test_the_worker_has_exited_before_the_guests_are_settled(tmp_path, monkeypatch):
    """Its memory (~190 MB at 1M rows) is not held while the main process settles."""
    import multiprocessing

    from guestsync.process import batch

    alive: list[int] = []
    real = batch.settle_dirty

    def settle_dirty(*args, **kwargs):
        alive.append(len(multiprocessing.active_children()))
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "settle_dirty", settle_dirty)
    guests, *_ = _run(tmp_path, parallel=True)
    assert guests and alive == [0]
