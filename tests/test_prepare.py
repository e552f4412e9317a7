"""A record's folding is done once per distinct guest it describes (repeat bookings)."""

from __future__ import annotations

from guestsync.identity.prepare import prepare
from guestsync.models import Entity, Guest, SourceRecord


def _rec(x: str, name: str) -> SourceRecord:
    return SourceRecord(
        source="s", stream="b", external_id=x, entity=Entity.guest, guest=Guest(full_name=name)
    )


def test_the_same_guest_is_folded_once_and_another_fold_is_its_own():
    a, b, c = _rec("1", "陳小明"), _rec("2", "陳小明"), _rec("3", "陈小明")
    fields = ("name", "email", "phone")
    assert prepare(a, fields) is prepare(b, fields)
    assert prepare(c, fields) is not prepare(a, fields)
    assert prepare(c, fields).features["name"] == prepare(a, fields).features["name"]
    assert prepare(a, ("name",)).fields == ("name",)  # other compared fields, other fold


def _probe_as_written(f: dict, keys: list) -> list:
    """probe_keys as it was written before its `name_has` suffixes were remembered."""
    out = [k for k in keys if k[0] != "name_has"]
    if f.get("name"):
        has = "".join(
            x for field, x in (("email", "e"), ("phone", "p"), ("birthday", "b")) if f.get(field)
        )
        free = [x for x in "epb" if x not in has]
        for mask in range(1 << len(free)):
            combo = {x for i, x in enumerate(free) if mask >> i & 1}
            out.append(("name_has", f"{f['name']}|{''.join(x for x in 'epb' if x in combo)}"))
    return out


def test_prepared_keys_are_keys_for_and_probe_keys_whatever_the_fields_present():
    from itertools import product

    from guestsync.identity import features, keys_for, probe_keys
    from guestsync.identity.keys import lookup_keys, partial_name_keys

    fields = ("name", "email", "phone", "birthday", "address")
    for i, (name, email, phone, born, address) in enumerate(
        product(
            ["陳小明", "Amy Lin", None],
            ["amy.lin88@example.com", None],
            ["+886912345678", None],
            ["1990-05-12", None],
            ["106台北市大安區復興南路一段1號", None],
        )
    ):
        guest = Guest(full_name=name, email=email, phone=phone, birthday=born, address=address)
        rec = SourceRecord(
            source="s", stream="b", external_id=str(i), entity=Entity.guest, guest=guest
        )
        p = prepare(rec, fields)
        f = features(guest, fields)
        assert p.features == f
        assert p.keys == keys_for(f)
        assert p.probe == probe_keys(f, keys_for(f)) == _probe_as_written(f, keys_for(f))
        # the name's ends are worked out only for the keys that use them
        partial = {kind for kind, _ in partial_name_keys(f)}
        assert ("surname_year" in partial) == bool(name and born)
        assert ("given_postcode" in partial) == bool(name and address)
        # one lookup tuple per memo entry (neighbourhood.py tells them apart by id)
        assert lookup_keys(f) is lookup_keys(dict(f)) == tuple(dict.fromkeys(p.probe))


def test_features_json_is_json_dumps_compact_and_unescaped():
    import json

    from guestsync.identity.prepare import features_json

    for f in [
        {},
        {"name": 'a "b" \\ \n\t', "name_form": "黄|小明|", "loyalty_ids": ["a:1", "b:2"]},
        {"n": 1.5, "i": 3, "t": True, "none": None, "odd": "\u2028\x00é"},
    ]:
        assert features_json(f) == json.dumps(f, ensure_ascii=False, separators=(",", ":"))
