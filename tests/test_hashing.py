"""One canonical JSON spelling for every content hash (inbox rows, payloads, ids)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from guestsync.hashing import canonical_json, content_id, json_hash, text_hash
from guestsync.models import InboxEntry


def test_key_order_and_spacing_do_not_change_the_hash():
    a = {"姓名": "陳小明", "phone": "0912", "nested": {"b": 1, "a": [1, 2]}}
    b = json.loads(json.dumps(dict(reversed(list(a.items()))), indent=4))
    assert (
        canonical_json(a)
        == canonical_json(b)
        == ('{"nested":{"a":[1,2],"b":1},"phone":"0912","姓名":"陳小明"}')
    )
    assert json_hash(a) == json_hash(b) == text_hash(canonical_json(a))


def test_values_json_cannot_say_are_hashed_as_their_text():
    assert canonical_json({"d": date(2026, 1, 2), "x": Decimal("1.50")}) == (
        '{"d":"2026-01-02","x":"1.50"}'
    )


def test_an_inbox_entry_stores_the_canonical_text_it_hashed():
    e = InboxEntry.of(source="s", stream="b", external_id="1", record={"b": 1, "a": 2}, origin="t")
    assert e.raw == '{"a":2,"b":1}'
    assert e.content_hash == text_hash(e.raw) == json_hash({"a": 2, "b": 1})


def test_a_content_id_is_short_prefixed_and_stable():
    rid = content_id({"name": "Amy", "at": "2026-01-01"})
    assert rid == content_id({"at": "2026-01-01", "name": "Amy"})
    assert rid.startswith("sha256:") and len(rid) == len("sha256:") + 32
