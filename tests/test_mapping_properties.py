"""Invariants of the mapping layer, with Hypothesis (issue 3)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from guestsync.errors import BadRecordError
from guestsync.mapping import compile_mapping
from guestsync.mapping.context import Context, KeepRaw
from guestsync.mapping.transforms import TRANSFORMS
from guestsync.normalize import split_name
from guestsync.yamlfile import load_yaml

CTX = Context()
SIMPLE = {
    name: TRANSFORMS[name](args, CTX)
    for name, args in [
        ("strip", None),
        ("lower", None),
        ("phone", None),
        ("email", None),
        ("int", None),
        ("decimal", {"places": 2}),
        ("bool", None),
        ("date", {"no_year": "drop", "calendar": "roc"}),
        ("datetime", None),
        ("split", None),
        ("name_split", "given"),
        ("template", "{{ value }}!"),
    ]
}
VALUES = st.one_of(
    st.text(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(SIMPLE)), VALUES)
def test_a_transform_converts_or_gives_a_reason_never_anything_else(name, value):
    try:
        SIMPLE[name](value)
    except (ValueError, KeepRaw):
        pass
    except (TypeError, ArithmeticError, OSError):
        pass  # turned into a record error by the compiled mapping (see next test)


MAPPING = compile_mapping(
    load_yaml(
        "p.yaml",
        text="""
entity: reservation
fields:
  id: {path: id}
  start_at: {path: at, transforms: [datetime], default: "2026-01-01T00:00:00+08:00"}
  party_size: {path: n, transforms: [int]}
  guest.phone: {column: [m, p], transforms: [{phone: {invalid: keep}}]}
  guest.email: {first_of: [e, c.e], transforms: [email]}
  guest.birthday: {path: b, transforms: [date]}
  guest.tags: {path: t, transforms: [split]}
  guest.marketing_consent: {path: ok, transforms: [bool]}
  guest.full_name: {template: "{{ f }} {{ c.l }}"}
""",
    ),
    CTX,
)
RECORDS = st.dictionaries(
    st.sampled_from(["id", "at", "n", "m", "p", "e", "c", "b", "t", "ok", "f"]),
    st.one_of(VALUES, st.dictionaries(st.sampled_from(["e", "l"]), VALUES, max_size=2)),
)


@settings(max_examples=300, deadline=None)
@given(RECORDS)
def test_any_record_maps_or_is_rejected_with_a_reason(raw):
    try:
        rec = MAPPING.apply(raw, source="s", stream="x", external_id=MAPPING.external_id(raw))
    except BadRecordError as exc:
        assert exc.render()
        return
    # Whole-record code and per-field code agree.
    values = MAPPING.map(raw)
    assert rec.reservation is not None and values["start_at"] is not None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="陳林歐陽司馬諸葛小明娜 ·", max_size=6))
def test_cjk_name_split_loses_no_character(name):
    given_, family = split_name(name)
    compact = name.replace(" ", "").replace("·", "")
    assert ((family or "") + (given_ or "")).replace("·", "") == compact or (
        "·" in name  # transliterated names are given-first
    )
