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


def test_the_compact_encoders_write_what_json_dumps_writes():
    """canonical_json and the features' encoder call the C encoder directly
    (hashing.compact_encoder): the same text as json.dumps, over random nested values."""
    import random

    from guestsync.hashing import compact_encoder

    rng = random.Random(1)
    leaves = [1, 2.5, -0.1, 1e20, None, True, 'x"y', "陳小明\n", "é\t", date(2026, 1, 2)]
    leaves += [Decimal("1.10"), float("nan"), 10**30]

    def value(depth: int = 0) -> object:
        r = rng.random()
        if depth < 3 and r < 0.25:
            return {
                rng.choice("ba陳zé") + str(i): value(depth + 1) for i in range(rng.randrange(4))
            }
        if depth < 3 and r < 0.35:
            return [value(depth + 1) for _ in range(rng.randrange(3))]
        return rng.choice(leaves)

    plain = compact_encoder()
    for _ in range(5000):
        v = value()
        kw: dict = {"ensure_ascii": False, "separators": (",", ":")}
        assert canonical_json(v) == json.dumps(v, sort_keys=True, default=str, **kw)
        try:
            expected = json.dumps(v, **kw)
        except TypeError:  # a date or Decimal: only canonical_json says those (as text)
            continue
        assert plain(v) == expected
