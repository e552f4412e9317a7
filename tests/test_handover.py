"""The mapping worker's hand-over (process/handover.py) gives exactly the records and
folded guests that mapping and folding in-process give."""

from __future__ import annotations

import json
import pickle
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from guestsync.identity import IdentityConfig
from guestsync.identity.prepare import MappedBatch, prepare
from guestsync.models import (
    Consent,
    Coupon,
    Entity,
    Feedback,
    Guest,
    Membership,
    Order,
    OrderChannel,
    OrderItem,
    PointsBalance,
    PointsKind,
    PointsMovement,
    Reservation,
    ReservationStatus,
    SourceRecord,
)
from guestsync.process.batch import map_ahead
from guestsync.process.handover import decode
from guestsync.process.mapping_pool import map_rows
from guestsync.process.window import hashed
from guestsync.store import InboxRow

from .activity_fixtures import RecordMapping

ROOT = Path(__file__).resolve().parent.parent
FIELDS = tuple(IdentityConfig().fields)
Item = tuple[str, str, str, str]


def _in_process(items: list[Item], lookup: Callable[[str, str], Any]) -> MappedBatch:
    """As the bulk lane maps and folds a window itself (process_batch: map_ahead, then
    prepare each mapped record)."""
    now = datetime.now(UTC)
    mapped = map_ahead([InboxRow(i, *item, "test", now) for i, item in enumerate(items)], lookup)
    return MappedBatch(mapped, [None if isinstance(m, str) else prepare(m, FIELDS) for m in mapped])


def _handed_over(items: list[Item], lookup: Callable[[str, str], Any]) -> MappedBatch:
    """As the main process takes it from the worker: pickled and back."""
    sent = pickle.dumps(map_rows(items, lookup, FIELDS), protocol=pickle.HIGHEST_PROTOCOL)
    return decode(pickle.loads(sent))


def _assert_same(a: MappedBatch, b: MappedBatch) -> None:
    assert len(a) == len(b)
    for ra, rb, pa, pb in zip(a, b, a.prepared, b.prepared, strict=True):
        if isinstance(ra, str):
            assert rb == ra and pb is None
            continue
        assert isinstance(rb, SourceRecord)
        assert rb.model_dump() == ra.model_dump()
        assert rb.model_dump_json() == ra.model_dump_json()
        assert rb == ra
        assert type(rb.entity) is Entity
        assert pb == pa
    for key, h in b.hashes.items():
        assert h == hashed(key)
    wanted = {k for p in a.prepared if p for k in (*p.keys, *p.probe)}
    assert set(b.hashes) == wanted


def _records() -> list[SourceRecord]:
    at = datetime(2026, 12, 1, 19, 30, tzinfo=UTC)
    guest = Guest(
        full_name="陳小明",
        email="ming@example.com",
        phone="+886912345678",
        birthday=date(1990, 5, 4),
        tags=["VIP", "常客"],
        allergies=["花生"],
        address="106台北市大安區復興南路一段1號",
        marketing_consent=Consent(granted=True, at=at, source="site"),
        sms_consent=Consent(granted=False),
    )
    plain = Guest(given_name="Amy", family_name="林", phone="+886987654321")
    base = {"source": "pos", "stream": "s"}
    return [
        SourceRecord(**base, external_id="g1", entity=Entity.guest, guest=guest, updated_at=at),
        SourceRecord(
            **base,
            external_id="r1",
            entity=Entity.reservation,
            guest=plain,
            reservation=Reservation(
                venue="信義店",
                start_at=at,
                party_size=4,
                status=ReservationStatus.seated,
                requests="窗邊\n座位",
            ),
        ),
        SourceRecord(
            **base,
            external_id="o1",
            entity=Entity.order,
            guest=guest,
            order=Order(
                placed_at=at,
                channel=OrderChannel.delivery,
                total=Decimal("1280.50"),
                currency="TWD",
                items=[
                    OrderItem(name="牛肉麵", quantity=Decimal(2), unit_price=Decimal("220")),
                    OrderItem(name="小籠包"),
                ],
                reservation_id="r1",
            ),
        ),
        SourceRecord(
            **base,
            external_id="f1",
            entity=Entity.feedback,
            guest=plain,
            feedback=Feedback(rating=Decimal("4.5"), comment="很好吃", at=at),
        ),
        SourceRecord(  # the member number becomes a loyalty id (the model's validator)
            **base,
            external_id="p1",
            entity=Entity.points,
            guest=Guest(full_name="王大同"),
            points=PointsMovement(
                programme="vip", member="M001", kind=PointsKind.redeem, points=Decimal(30)
            ),
        ),
        SourceRecord(
            **base,
            external_id="b1",
            entity=Entity.balance,
            guest=Guest(full_name="王大同"),
            balance=PointsBalance(programme="vip", member="M001", balance=Decimal(70), as_of=at),
        ),
        SourceRecord(
            **base,
            external_id="m1",
            entity=Entity.membership,
            guest=plain,
            membership=Membership(programme="vip", member="M002", tier="金卡", since=at),
        ),
        SourceRecord(
            **base,
            external_id="c1",
            entity=Entity.coupon,
            guest=plain,
            coupon=Coupon(code="X1", expires_at=at, expired=True, value=Decimal(100)),
        ),
        SourceRecord(
            **base,
            external_id="d1",
            entity=Entity.guest,
            guest=plain,
            deleted=True,
            warnings=["phone kept as written: 0912"],
        ),
    ]


def _items(records: list[SourceRecord]) -> list[Item]:
    exclude = {"source", "stream", "external_id"}
    return [
        (r.source, r.stream, r.external_id, r.model_dump_json(exclude=exclude)) for r in records
    ]


def test_every_kind_of_record_comes_back_the_same():
    records = _records()
    items = _items(records)
    bad = {"entity": "reservation", "guest": {}, "reservation": {"party_size": 0}}
    items.insert(3, ("pos", "s", "bad1", json.dumps(bad)))  # fails validation
    items.insert(6, ("pos", "s", "bad2", "{not json"))  # fails to parse
    items += _items(records[:2])  # repeats: one folded guest each
    lookup = lambda s, st: RecordMapping()  # noqa: E731
    a, b = _in_process(items, lookup), _handed_over(items, lookup)
    _assert_same(a, b)
    assert [isinstance(r, str) for r in b].count(True) == 2
    assert "party_size" in b[3]  # the rejection's reason, as in-process
    points = next(r for r in b if isinstance(r, SourceRecord) and r.points)
    assert points.guest.loyalty_ids == ["vip:M001"]
    order = next(r for r in b if isinstance(r, SourceRecord) and r.order)
    assert isinstance(order.order.items[0], OrderItem)
    # repeat bookings share one Prepared, as `prepare`'s cache gives them in-process
    assert b.prepared[-1] is b.prepared[1]
    assert b.prepared[2] is b.prepared[0]  # the order's guest is the first record's


def test_a_rebuilt_record_still_validates_what_is_assigned_to_it():
    items = _items(_records()[:2])
    b = _handed_over(items, lambda s, st: RecordMapping())
    record = b[1]
    assert isinstance(record, SourceRecord) and record.reservation is not None
    record.reservation.party_size = 6
    with pytest.raises(ValidationError):
        record.reservation.party_size = 0
    with pytest.raises(ValidationError):
        record.guest.birthday = "not a date"  # type: ignore[assignment]


def test_the_benchmark_file_comes_back_the_same(tmp_path):
    """The bench's file (Chinese names, varied phone and email spellings) through the
    real booking mapping, in-process and handed over: the same records, every one."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_csv_import import make_csv, open_hub

    from guestsync.actions.import_csv import import_files

    make_csv(tmp_path / "f.csv", 3000)
    hub = open_hub(tmp_path)
    import_files(hub, "site", [str(tmp_path / "f.csv")], process=False)
    rows = hub.store.claim_inbox(limit=5000, after_id=0, owner="t")
    items = [(r.source, r.stream, r.external_id, r.raw) for r in rows]
    items.append(("site", "bookings", "gone", json.dumps({"Booking ID": "x"})))
    a, b = _in_process(items, hub.mapping_for), _handed_over(items, hub.mapping_for)
    hub.close()
    _assert_same(a, b)
    assert len(a) == 3001 and isinstance(b[-1], str)
    assert sum(p is not None for p in b.prepared) == 3000
    assert len({id(p) for p in b.prepared if p}) < 3000  # repeat bookings share one


def test_the_keys_memo_keeps_to_the_bound_the_worker_sets():
    """The worker and, meanwhile, the main process remember fewer guests' keys
    (mapping_pool.WORKER_MEMO, MAIN_MEMO): the process tree's memory at 1M rows."""
    from guestsync.identity import keys

    before = keys.bound_memo(4)
    try:
        for i in range(10):
            keys.stored_and_probe_keys({"name": f"chen {i}", "phone": f"+88690000{i:04d}"})
            assert len(keys._MEMO) <= 4
    finally:
        assert keys.bound_memo(before) == 4
    assert before == keys._MEMO_MAX


def test_postgres_key_locks_come_from_the_handed_over_hashes():
    """keyed.lock_groups (a window beside other workers on PostgreSQL) takes the worker's
    hashes of the probe keys: the same locks as hashing them in the main process."""
    from guestsync.process.keyed import lock_groups

    records = _records()
    items = _items(records)
    lookup = lambda s, st: RecordMapping()  # noqa: E731
    now = datetime.now(UTC)
    rows = [InboxRow(i, *item, "test", now) for i, item in enumerate(items)]
    a, b = _in_process(items, lookup), _handed_over(items, lookup)
    assert lock_groups(rows, b, None) == lock_groups(rows, a, None)
    assert len(lock_groups(rows, b, None)[0]) > 2  # its refs and its probe keys
    key = next(k for k in b.prepared[0].probe if k[0] == "phone")
    b.hashes[key] = 12345  # what the worker said is what is locked
    assert 12345 in lock_groups(rows, b, None)[0]
