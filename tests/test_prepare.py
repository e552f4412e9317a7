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
