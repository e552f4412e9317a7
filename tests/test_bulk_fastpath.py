"""The bulk lane's fast path (process/fastpath.py): a record meeting nobody becomes a new
guest without the Resolver, and the guests, links, keys and match log are the Resolver's."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import guestsync.process.fastpath as fastpath
from guestsync.models import Entity, Guest, SourceRecord
from guestsync.process.batch import process_pending
from guestsync.store import Store

from .activity_fixtures import RecordMapping, settings, to_inbox
from .test_bulk_lane import _outcome, _records


def _rec(x: str, name: str, phone: str | None, email: str | None) -> SourceRecord:
    guest = Guest(full_name=name, phone=phone, email=email)
    return SourceRecord(
        source="booking_tw", stream="guests", external_id=x, entity=Entity.guest, guest=guest
    )


def _same_person_in_one_window() -> list[SourceRecord]:
    """陳美玲 three times in one window, each time new to the store: only the first meets
    nobody; the second meets her by phone, the third by email. Between them, strangers."""
    return [
        _rec("a1", "陳美玲", "+886912345678", "meiling@example.com"),
        _rec("s1", "林志強", "+886922222222", "zq@example.com"),
        _rec("a2", "陳美玲", "+886912345678", "mlchen@example.org"),
        _rec("s2", "黃雅婷", "+886933333333", None),
        _rec("a3", "陳美玲", "+886955555555", "meiling@example.com"),
        _rec("s3", "張建國", None, "jg@example.com"),
    ]


def _run(path: Path, batches: list[list[SourceRecord]], *, bulk: bool) -> tuple[Any, ...]:
    """Each batch in its own window; returns the outcome, the match log by record (what
    each record met and how), and the refs that took the fast path."""
    store = Store.open(path)
    fast: list[str] = []
    real = fastpath.new_alone

    def counted(resolver: Any, window: Any, ref: Any, *a: Any) -> str | None:
        gid = real(resolver, window, ref, *a)
        if gid is not None:
            fast.append(ref[2])
        return gid

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fastpath, "new_alone", counted)
        for records in batches:
            to_inbox(store, records)
            process_pending(
                store,
                lambda s, st: RecordMapping(),  # type: ignore[arg-type,return-value]
                {},
                batch_size=1000,
                settings=settings(),
                bulk=bulk,
            )
    log = Counter(
        store.conn.execute(
            "SELECT external_id, candidate_ref, outcome, score FROM match_log"
        ).fetchall()
    )
    guest_of = dict(store.conn.execute("SELECT external_id, guest_id FROM guest_links"))
    out = _outcome(store)
    store.close()
    return out, log, fast, guest_of


def test_one_new_person_in_one_window_meets_herself(tmp_path):
    batches = [_same_person_in_one_window()]
    per_record = _run(tmp_path / "one.db", batches, bulk=False)
    bulk = _run(tmp_path / "bulk.db", batches, bulk=True)
    assert bulk[:2] == per_record[:2]
    assert bulk[2] == ["a1", "s1", "s2", "s3"]  # her later records met her
    assert per_record[2] == []  # (the per-record lane has no fast path)
    guest_of = bulk[3]
    assert guest_of["a1"] == guest_of["a2"] == guest_of["a3"]
    assert len({guest_of[x] for x in ("a1", "s1", "s2", "s3")}) == 4
    assert bulk[1][("a1", None, "new", None)] == 1  # the Resolver's row for a new guest


def test_a_later_window_meets_the_guests_an_earlier_one_stored(tmp_path):
    first = _same_person_in_one_window()
    again = [
        _rec("a4", "陳美玲", "+886912345678", None),  # stored keys: not the fast path
        _rec("s4", "王淑芬", "+886944444444", "sf@example.com"),
    ]
    per_record = _run(tmp_path / "one.db", [first, again], bulk=False)
    bulk = _run(tmp_path / "bulk.db", [first, again], bulk=True)
    assert bulk[:2] == per_record[:2]
    assert bulk[2] == ["a1", "s1", "s2", "s3", "s4"]
    assert bulk[3]["a4"] == bulk[3]["a1"]


@pytest.mark.parametrize("seed", [11, 12])
def test_the_fast_path_keeps_both_lanes_alike_by_record(tmp_path, seed):
    """Synthetic people (families, spellings, repeat records changed): the same match log
    record by record, not only the same counts, with a good share on the fast path."""
    records = _records(seed, people=150)
    batches = [records[i : i + 200] for i in range(0, len(records), 200)]
    per_record = _run(tmp_path / "one.db", batches, bulk=False)
    bulk = _run(tmp_path / "bulk.db", batches, bulk=True)
    assert bulk[:2] == per_record[:2]
    assert len(bulk[2]) > len(records) // 10
