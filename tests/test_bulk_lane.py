"""The bulk lane (a batch resolved as one window: process/window.py) and the per-record
lane give the same guests, the same match log and the same review queue; so does the
bulk lane fed by the mapping worker's hand-over (process/handover.py)."""

from __future__ import annotations

import gc
import json
import pickle
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from guestsync.identity import IdentityConfig
from guestsync.identity.prepare import MappedBatch
from guestsync.models import Entity, Guest, Reservation, SourceRecord
from guestsync.process import batch
from guestsync.process.batch import process_pending
from guestsync.process.handover import decode
from guestsync.process.mapping_pool import map_rows
from guestsync.restaurant import hooks
from guestsync.store import InboxRow, Store
from guestsync.testing.synthetic import rows, to_record

from .activity_fixtures import RecordMapping, settings, to_inbox


def _records(seed: int, people: int = 220) -> list[SourceRecord]:
    records = [to_record(r) for r, _ in rows(people, 3.0, seed=seed)]
    # every other record a booking (the bulk lane buffers bookings until the window ends)
    records = [
        r.model_copy(update={"entity": Entity.reservation, "reservation": _booking(i)})
        if i % 2
        else r
        for i, r in enumerate(records)
    ]
    # Some records arrive again, changed (a new phone): they are re-resolved, and their
    # old keys leave their guest unless another record has them.
    again = [
        r.model_copy(
            update={"guest": r.guest.model_copy(update={"phone": "+886900000" + f"{i:03d}"})}
        )
        for i, r in enumerate(records[::25])
    ]
    return records + again


def _booking(i: int) -> Reservation:
    return Reservation(
        venue="信義店", start_at=datetime(2026, 12, 1 + i % 28, 19, tzinfo=UTC), party_size=2
    )


def _outcome(store: Store) -> dict[str, Any]:
    q = store.conn.execute
    links = q("SELECT source, stream, external_id, guest_id FROM guest_links").fetchall()
    by_guest: dict[str, set[tuple[str, str, str]]] = {}
    for s, st, x, g in links:
        by_guest.setdefault(g, set()).add((s, st, x))
    booked: dict[str, set[str]] = {}
    for x, g in q("SELECT external_id, guest_id FROM reservations"):
        booked.setdefault(g, set()).add(x)
    return {
        "clusters": sorted(sorted(refs) for refs in by_guest.values()),
        "bookings": sorted(sorted(xs) for xs in booked.values()),
        "live_guests": q("SELECT count(*) FROM guests WHERE merged_into IS NULL").fetchone(),
        "outcomes": Counter(o for (o,) in q("SELECT outcome FROM match_log")),
        "reviews": q("SELECT count(*) FROM review_queue").fetchone(),
        "merges": q("SELECT count(*) FROM merges").fetchone(),
        "keys": q("SELECT count(*) FROM guest_keys").fetchone(),
        "inbox": Counter(s for (s,) in q("SELECT status FROM inbox")),
    }


def _process_all(store: Store, *, bulk: bool, worker: bool = False) -> Any:
    return process_pending(
        store,
        lambda s, st: RecordMapping(),  # type: ignore[arg-type,return-value]
        {},
        batch_size=300,
        settings=settings(),
        bulk=bulk,
        premap=_handed_over if worker else None,
    )


def _handed_over(rows: list[InboxRow]) -> Callable[[], MappedBatch]:
    """Map and fold as the mapping worker does, and take it back as the main process
    does (pickled: process/handover.py), without the worker process."""
    items = [(r.source, r.stream, r.external_id, r.raw) for r in rows]
    lookup: Any = lambda s, st: RecordMapping()  # noqa: E731
    sent = pickle.dumps(map_rows(items, lookup, tuple(IdentityConfig().fields)))
    return lambda: decode(pickle.loads(sent))


def _run(
    path: Path, records: list[SourceRecord], *, bulk: bool, worker: bool = False
) -> tuple[dict, Any]:
    store = Store.open(path)
    to_inbox(store, records)
    stats = _process_all(store, bulk=bulk, worker=worker)
    out = _outcome(store)
    store.close()
    return out, (stats.processed, stats.rejected, stats.guests_created, stats.guests_matched)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_both_lanes_give_the_same_guests(tmp_path, seed):
    records = _records(seed)
    per_record = _run(tmp_path / "one.db", records, bulk=False)
    bulk = _run(tmp_path / "bulk.db", records, bulk=True)
    assert bulk == per_record
    assert per_record[0]["merges"][0] or per_record[0]["outcomes"]["merge"]  # it was tested
    assert _run(tmp_path / "worker.db", records, bulk=True, worker=True) == per_record
    assert len(per_record[0]["bookings"]) > 50


def _fail_booking_of(external_id: str, monkeypatch: Any) -> None:
    """Storing this record's booking fails, after its link was made (mid-window)."""
    real = hooks.record

    def record(store: Any, rec: SourceRecord, *a: Any, **k: Any) -> None:
        if rec.external_id == external_id:
            raise ValueError("cannot store this booking")
        real(store, rec, *a, **k)

    monkeypatch.setattr(hooks, "record", record)


def test_a_row_failing_mid_window_sends_the_window_down_the_per_record_lane(tmp_path, monkeypatch):
    records = _records(4, people=120)
    _fail_booking_of(records[57].external_id, monkeypatch)
    per_record = _run(tmp_path / "one.db", records, bulk=False)
    bulk = _run(tmp_path / "bulk.db", records, bulk=True)
    assert bulk == per_record and per_record[1][1] == 1  # the one row, rejected both ways
    assert per_record[0]["inbox"]["error"] == 1


def test_the_window_reads_the_store_set_based(tmp_path, monkeypatch):
    """No per-record look-up of candidates or links once the window is read."""
    records = _records(5, people=120)
    store = Store.open(tmp_path / "s.db")
    to_inbox(store, records[:150])
    process_pending(store, lambda s, st: RecordMapping(), {}, batch_size=300, bulk=True)  # type: ignore[arg-type,return-value]
    calls: Counter[str] = Counter()
    names = ("guests_sharing_keys", "candidate_links", "link_state", "save_link")
    for name in (*names, "upsert_reservation"):
        real = getattr(store, name)
        monkeypatch.setattr(
            store, name, lambda *a, _n=name, _r=real, **k: calls.update([_n]) or _r(*a, **k)
        )
    to_inbox(store, records[150:])
    stats = process_pending(store, lambda s, st: RecordMapping(), {}, batch_size=1000, bulk=True)  # type: ignore[arg-type,return-value]
    assert stats.processed > 100
    assert calls["guests_sharing_keys"] == calls["link_state"] == calls["save_link"] == 0
    assert calls["upsert_reservation"] == 0  # the window's bookings: one executemany
    assert calls["candidate_links"] <= stats.processed // 20  # merges and refreshes only
    assert json.loads(json.dumps(dict(calls))) is not None


def _repeats_and_crowds(seed: int) -> list[SourceRecord]:
    """Repeat bookings (the same guest, described alike, again and again: decisions and
    key look-ups reused within a window and across windows) and a front-desk phone shared
    by more guests than a key's cap (its key skipped), shuffled across windows."""
    rng = random.Random(seed)
    base = _records(seed, people=100)
    repeats = [
        r.model_copy(
            update={
                "external_id": f"{r.external_id}-again{k}",
                "entity": Entity.reservation,
                "reservation": _booking(i + k),
            }
        )
        for i, r in enumerate(base[::3])
        for k in range(1 + i % 3)
    ]
    crowd = [
        SourceRecord(
            source="booking_tw",
            stream="guests",
            external_id=f"desk{i}-{k}",
            entity=Entity.reservation,
            guest=Guest(
                full_name=f"{'林黃張李王吳劉蔡'[i % 8]}{'小明美玲志強雅婷建國'[i % 10]}{i}",
                phone="+886223456789",
                email=f"desk{i}@example.com",
            ),
            reservation=_booking(i),
        )
        for i in range(30)
        for k in range(2)
    ]
    records = base + repeats + crowd
    rng.shuffle(records)
    return records


@pytest.mark.parametrize("seed", [6, 7])
def test_repeat_bookings_and_crowded_keys_give_the_same_guests(tmp_path, seed):
    records = _repeats_and_crowds(seed)
    per_record = _run(tmp_path / "one.db", records, bulk=False)
    bulk = _run(tmp_path / "bulk.db", records, bulk=True)
    assert bulk == per_record
    assert per_record[1][0] == len(records)  # every record processed, none rejected
    assert _run(tmp_path / "worker.db", records, bulk=True, worker=True) == per_record


@pytest.mark.parametrize("bulk", [True, False])
def test_a_batch_leaves_the_garbage_collector_as_it_found_it(tmp_path, monkeypatch, bulk):
    """Collections pause while a window or a per-record batch is mapped and resolved
    (process/batch.py), and only then."""
    before = gc.get_threshold()
    paused: list[tuple[int, int, int]] = []
    real = hooks.record

    def record(*a: Any, **k: Any) -> None:
        paused.append(gc.get_threshold())
        real(*a, **k)

    real_map = batch.map_ahead

    def map_ahead(*a: Any) -> Any:  # a window's mapping too: its records live as long
        paused.append(gc.get_threshold())
        return real_map(*a)

    monkeypatch.setattr(hooks, "record", record)
    monkeypatch.setattr(batch, "map_ahead", map_ahead)
    _, stats = _run(tmp_path / "lane.db", _records(8, people=60), bulk=bulk)
    assert stats[0] > 0 and gc.get_threshold() == before and gc.isenabled()
    # (the per-record lane maps each row inside its batch: no map_ahead)
    assert len(paused) == stats[0] + bulk and all(min(t) >= 1 << 30 for t in paused)


def _versioned(seed: int) -> list[SourceRecord]:
    """Records with versions (updated_at), some delivered again: older after newer (stale),
    newer after older, the same again; in the same window and windows apart."""
    base = _records(seed, people=120)
    at = lambda day: datetime(2026, 11, day, 12, tzinfo=UTC)  # noqa: E731
    records = [r.model_copy(update={"updated_at": at(10)}) for r in base]
    again = []
    for i, r in enumerate(records[::7]):
        phone = "+886911000" + f"{i:03d}"
        changed = r.model_copy(update={"guest": r.guest.model_copy(update={"phone": phone})})
        again.append(changed.model_copy(update={"updated_at": at(5 if i % 3 else 20)}))
        if i % 4 == 0:
            again.append(r)  # the same state once more: current, not stale
    return records + again


def _run_versioned(path: Path, records: list[SourceRecord], *, bulk: bool) -> tuple:
    store = Store.open(path)
    store.claim_version(*_ref_of(records[3]), "2026-11-30T00:00:00.000000+00:00")  # seen newer
    to_inbox(store, records)
    stats = _process_all(store, bulk=bulk)
    versions = store.conn.execute(
        "SELECT source, stream, external_id, version FROM record_versions ORDER BY 1, 2, 3"
    ).fetchall()
    out = _outcome(store), versions, (stats.processed, stats.stale, stats.guests_created)
    store.close()
    return out


def _ref_of(r: SourceRecord) -> tuple[str, str, str]:
    return (r.source, r.stream, r.external_id)


def test_both_lanes_skip_the_same_stale_records_and_remember_the_same_versions(tmp_path):
    records = _versioned(5)
    per_record = _run_versioned(tmp_path / "one.db", records, bulk=False)
    bulk = _run_versioned(tmp_path / "bulk.db", records, bulk=True)
    assert bulk == per_record
    assert per_record[2][1] > 10  # stale records were met (older states after newer ones)
    assert len(per_record[1]) == len({_ref_of(r) for r in records})
    newest = dict(((s, st, x), v) for s, st, x, v in per_record[1])
    assert newest[_ref_of(records[3])] == "2026-11-30T00:00:00.000000+00:00"


def test_a_window_sent_down_the_per_record_lane_reports_each_rejected_row_once(
    tmp_path, monkeypatch
):
    records = _records(4, people=120)
    unmappable, failing = records[20].external_id, records[57].external_id

    class Mapping(RecordMapping):
        def apply(self, raw: Any, **kw: Any) -> SourceRecord:
            if kw["external_id"] == unmappable:
                raise ValueError("no such venue")
            return super().apply(raw, **kw)

    _fail_booking_of(failing, monkeypatch)
    store = Store.open(tmp_path / "s.db")
    to_inbox(store, records)
    stats = process_pending(store, lambda s, st: Mapping(), {}, batch_size=300, bulk=True)  # type: ignore[arg-type,return-value]
    assert stats.rejected == 2 and len(stats.errors) == 2
    assert [e.split(": ", 1)[1] for e in stats.errors] == [
        "no such venue",
        "cannot store this booking",
    ]
