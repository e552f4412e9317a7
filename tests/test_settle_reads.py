"""What settle reads and builds set-based (#20) answers as the per-guest ways do: link
records for golden records, consent statements per chunk, models built from computed
values, payloads queued as the canonical JSON they were hashed from."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from guestsync.hashing import canonical_json, json_hash
from guestsync.identity import features
from guestsync.identity.prepare import features_json
from guestsync.models import Guest, built
from guestsync.restaurant.aggregates import Aggregates
from guestsync.restaurant.loyalty import Loyalty
from guestsync.store import Store

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
AMY = Guest(full_name="陳小明", email="ming.chen@example.com", tags=["vip"])
BOB = Guest(full_name="Bob Lin", email="bob@example.com")


def _store(tmp_path) -> Store:
    store = Store.open(tmp_path / "hub.db")
    for gid in ("g-amy", "g-bob", "g-none"):
        store.save_guest(Guest(id=gid))
    for n, (ref, gid, guest) in enumerate(
        [
            (("site", "s", "a1"), "g-amy", AMY),
            (("pos", "orders", "a2"), "g-amy", AMY),
            (("site", "s", "b1"), "g-bob", BOB),
        ]
    ):
        store.save_link(
            ref,
            guest_id=gid,
            record_json=guest.model_dump_json(exclude_none=True),
            features_json=features_json(features(guest)),
            seen_at=T0 + timedelta(minutes=n),
        )
    return store


def test_link_records_are_the_links_golden_records_need(tmp_path):
    store = _store(tmp_path)
    ids = ["g-amy", "g-bob", "g-none"]
    want = sorted((x.guest_id, x.ref, x.seen_at, x.record) for x in store.links_of(ids))
    got = store.link_records(ids)
    assert sorted(got) == want and len(got) == 3
    amy = [r for g, _, _, r in got if g == "g-amy"]
    assert amy[0] is amy[1]  # one record, parsed once


def test_consent_statements_of_many_guests_are_each_guests_own(tmp_path):
    store = _store(tmp_path)
    store.save_consent(
        source="site",
        stream="s",
        external_id="a1",
        guest_id="g-amy",
        statements=[("email", True, T0, None), ("sms", False, T0 - timedelta(days=1), "pos")],
    )
    store.save_consent(
        source="site",
        stream="s",
        external_id="b1",
        guest_id="g-bob",
        statements=[("email", False, T0, None)],
    )
    many = store.consent_statements_many(["g-amy", "g-bob", "g-none"])
    assert many == {g: store.consent_statements(g) for g in ("g-amy", "g-bob", "g-none")}
    assert [c for c, *_ in many["g-amy"]] == ["sms", "email"]  # in time order
    assert many["g-none"] == []


def test_built_models_equal_validated_ones():
    agg = Aggregates(visit_count=2, spend={"TWD": Decimal("1200")}, segment="regular")
    again = built(Aggregates, dict(agg.__dict__))
    assert again == agg and again.model_dump_json() == agg.model_dump_json()
    loy = Loyalty(member=True, programmes=["club"], balances={"club": Decimal(5)})
    assert built(Loyalty, dict(loy.__dict__)) == loy
    with pytest.raises(AssertionError, match="every field"):
        built(Loyalty, {"member": True})


def test_a_payload_given_as_text_is_queued_as_that_text(tmp_path):
    store = _store(tmp_path)
    payload = {"email": "ming.chen@example.com", "name": "陳小明", "visits": 2}
    text = canonical_json(payload)
    assert store.enqueue_many("crm", [("g-amy", text, json_hash(payload))]) == 1
    assert store.enqueue_many("crm", [("g-bob", payload, json_hash(payload))]) == 1
    rows = dict(store.conn.execute("SELECT guest_id, payload FROM outbox").fetchall())
    assert rows["g-amy"] == text == rows["g-bob"]  # one spelling, whichever way given
    assert json.loads(rows["g-amy"]) == payload
    # the same payload again: nothing new to queue
    assert store.enqueue_many("crm", [("g-amy", text, json_hash(payload))]) == 0
